package inference

import (
	"fmt"
	"strings"
)

// BaselineNames lists the classical forecasters in the order reports show them.
var BaselineNames = []string{"naive", "seasonal-naive", "holt-winters", "diff-ar"}

// Baseline returns the classical forecaster with the given name.
func Baseline(name string) (Forecaster, error) {
	switch name {
	case "naive":
		return Naive{}, nil
	case "seasonal-naive":
		return SeasonalNaive{}, nil
	case "holt-winters":
		return NewHoltWinters(0), nil
	case "diff-ar":
		return NewDiffAR(0), nil
	}
	return nil, fmt.Errorf("unknown baseline %q (want one of %s)", name, strings.Join(BaselineNames, ", "))
}
