package feedback

import (
	"fmt"
	"strconv"
	"time"
)

// judge ends a challenger's trial once it has run for the trial period:
// promoted when its mean pinball loss on the same origins as the champion
// is lower by the margin, rejected otherwise. With too few shared origins
// it waits up to twice the period (Kayenta refuses to judge on too little
// evidence), then rejects.
func (l *Loop) judge(now time.Time) {
	if l.models == nil {
		return
	}
	f, chal := l.models.Trial()
	if f == nil || now.Sub(chal.Since) < l.opt.Trial.Period {
		return
	}
	champ, challenger, n := l.compare(l.models.Champion.Name(), Label(f), chal.Since, now)
	ev := Event{Samples: n}
	if n > 0 {
		ev.ChampionPinball, ev.ChallengerPinball = &champ, &challenger
	}
	var err error
	switch {
	case n < l.opt.Trial.MinSamples && now.Sub(chal.Since) < 2*l.opt.Trial.Period:
		return
	case n < l.opt.Trial.MinSamples:
		err = l.models.Reject(now, fmt.Sprintf("only %d origins scored for both (want %d)", n, l.opt.Trial.MinSamples), ev)
	case challenger <= champ*(1-l.opt.Trial.Margin):
		err = l.models.Promote(now, fmt.Sprintf("mean pinball %.4g vs champion %.4g on %d origins (margin %s)",
			challenger, champ, n, percent(l.opt.Trial.Margin)), ev)
		l.drift = map[string]Staleness{} // the stale model no longer serves
		l.log.Info("challenger promoted", "model", chal.Dir, "pinball", challenger, "champion_pinball", champ, "origins", n)
	default:
		err = l.models.Reject(now, fmt.Sprintf("mean pinball %.4g vs champion %.4g on %d origins: not better by %s",
			challenger, champ, n, percent(l.opt.Trial.Margin)), ev)
		l.log.Info("challenger rejected", "model", chal.Dir, "pinball", challenger, "champion_pinball", champ, "origins", n)
	}
	if err != nil {
		l.log.Error("feedback: end of trial", "err", err)
	}
}

// compare is the mean pinball of two models over the targets (LB, lead,
// time) both were scored on in [from, to).
func (l *Loop) compare(a, b string, from, to time.Time) (pa, pb float64, n int) {
	for _, lb := range l.lbs {
		byOrigin := map[string]scored{}
		for _, s := range l.book.window(lb, a, from, to) {
			if !s.Missing {
				byOrigin[s.origin()] = s
			}
		}
		for _, s := range l.book.window(lb, b, from, to) {
			if c, ok := byOrigin[s.origin()]; ok && !s.Missing {
				pa, pb, n = pa+c.pinball(), pb+s.pinball(), n+1
			}
		}
	}
	if n == 0 {
		return 0, 0, 0
	}
	return pa / float64(n), pb / float64(n), n
}

func percent(f float64) string { return strconv.FormatFloat(f*100, 'g', 3, 64) + " %" }
