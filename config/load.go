package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/unknwon/goconfig"
)

// Load reads the INI file at path, applies it over Default() and validates
// the result. Errors start with path and name the section and key.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	return Parse(data, path)
}

// Parse is Load for data already in memory; name is used in error messages.
func Parse(data []byte, name string) (Config, error) {
	cfg, err := parse(data)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

func parse(data []byte) (Config, error) {
	// LoadFromReader, not LoadFromData: the latter copies the data (passwords
	// included) into a file under the system temp dir.
	f, err := goconfig.LoadFromReader(bytes.NewReader(data))
	if err != nil {
		return Config{}, readError(data, err)
	}
	cfg := Default()
	for _, sec := range f.GetSectionList() {
		// GetSection gives raw values. GetValue would expand %(key)s
		// references and fall back from [a.b] to [a], surprises for
		// passwords and typos, and it recurses forever on a=%(a)s.
		values, err := f.GetSection(sec)
		if err != nil {
			return Config{}, fmt.Errorf("[%s]: %w", sec, err)
		}
		if err := cfg.apply(sec, f.GetKeyList(sec), values); err != nil {
			return Config{}, err
		}
	}
	for name, lb := range cfg.LBs {
		if lb.ShadowBackend == "" && lb.Backend != "" {
			lb.ShadowBackend = lb.Backend + "_shadow"
			cfg.LBs[name] = lb
		}
	}
	return cfg, nil
}

// readError adds the line number, which goconfig's errors lack.
func readError(data []byte, err error) error {
	var re goconfig.ReadError
	if !errors.As(err, &re) {
		return fmt.Errorf("read: %w", err)
	}
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == re.Content {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	return err
}

// apply sets the keys of one section on c.
func (c *Config) apply(sec string, keys []string, values map[string]string) error {
	fields, commit, err := c.sectionFields(sec, len(keys) > 0)
	if err != nil {
		return err
	}
	byKey := make(map[string]func(string) error, len(fields))
	for _, f := range fields {
		byKey[f.key] = f.set
	}
	for _, k := range keys {
		set, ok := byKey[k]
		if why, gone := removedKeys[sec+"."+k]; !ok && gone {
			return fmt.Errorf("[%s] %s: %s", sec, k, why)
		}
		if !ok {
			return fmt.Errorf("[%s] %s: unknown key%s", sec, k, suggest(k, fields))
		}
		if err := set(values[k]); err != nil {
			return fmt.Errorf("[%s] %s: %w", sec, k, err)
		}
	}
	commit()
	return nil
}

// sectionFields returns the keys a section accepts, bound to where their
// values go, and a commit that stores per-name sections into their map.
func (c *Config) sectionFields(sec string, hasKeys bool) ([]field, func(), error) {
	noop := func() {}
	if fn, ok := fixedSections()[sec]; ok {
		return fn(c), noop, nil
	}
	if sec == goconfig.DEFAULT_SECTION && hasKeys {
		return nil, nil, errors.New("keys outside any section: put them under [service], [policy], ...")
	}
	kind, name, _ := strings.Cut(sec, ".")
	switch kind {
	case "provider", "lb":
		if err := checkName(name); err != nil {
			return nil, nil, fmt.Errorf("[%s]: %w", sec, err)
		}
	default:
		return nil, nil, fmt.Errorf("[%s]: unknown section (known: %s, provider.NAME, lb.NAME)",
			sec, strings.Join(fixedSectionNames, ", "))
	}
	if kind == "provider" {
		p, ok := c.Providers[name]
		if !ok {
			p = DefaultProvider(name)
		}
		return providerFields(&p), func() { c.Providers[name] = p }, nil
	}
	l, ok := c.LBs[name]
	if !ok {
		l = DefaultLB(name)
	}
	return lbFields(&l), func() { c.LBs[name] = l }, nil
}

// checkName keeps NAME usable as an HAProxy map key and a file name.
func checkName(name string) error {
	if name == "" {
		return errors.New("name missing after the dot")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("name %q may hold only letters, digits, '-' and '_'", name)
		}
	}
	return nil
}

// suggest names the closest known key when the unknown one looks like a typo.
func suggest(key string, fields []field) string {
	best, bestDist := "", 3
	if len(key) > 64 {
		return ""
	}
	for _, f := range fields {
		if d := editDistance(key, f.key); d < bestDist {
			best, bestDist = f.key, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
