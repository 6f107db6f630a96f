package feedback

import "time"

// Report is the loop's state for status pages and the API: rolling
// accuracy of every model of every LB over each configured window (raw and
// calibrated coverage side by side), drift verdicts, the last retraining
// and the trial.
type Report struct {
	At         time.Time            `json:"at"`
	Accuracy   []Accuracy           `json:"accuracy"`
	Staleness  map[string]Staleness `json:"staleness"`
	Retrain    RetrainStatus        `json:"retrain"`
	Champion   string               `json:"champion,omitempty"` // the serving model's label
	Challenger *Challenger          `json:"challenger,omitempty"`
}

// Report builds the report at now.
func (l *Loop) Report(now time.Time) Report {
	r := Report{At: now, Staleness: l.Staleness(), Retrain: l.RetrainStatus()}
	l.mu.Lock()
	lbs := append([]string(nil), l.lbs...)
	l.mu.Unlock()
	for _, lb := range lbs {
		for _, m := range l.book.Models(lb) {
			for _, w := range l.opt.Windows {
				r.Accuracy = append(r.Accuracy, l.book.Accuracy(lb, m, w, now))
			}
		}
	}
	if l.models != nil {
		r.Champion = l.models.Champion.Name()
		_, r.Challenger = l.models.Trial()
	}
	return r
}
