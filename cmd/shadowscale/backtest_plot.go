package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/shadowscale/shadowscale/sim"
)

// plotPoints bounds what is drawn: longer runs are bucketed.
const plotPoints = 2000

var policyColors = map[string]color.RGBA{
	"reactive":   {R: 214, G: 39, B: 40, A: 255},
	"predictive": {R: 31, G: 119, B: 180, A: 255},
	"oracle":     {R: 44, G: 160, B: 44, A: 255},
}

// writePlot draws demand, the forecast band (p10–p90, made boot + warm-up
// ahead) and each policy's ready capacity over time, with each policy's
// violation minutes marked below the axis.
func writePlot(path string, rep sim.Report) error {
	if filepath.Ext(path) != ".png" {
		return fmt.Errorf("want a .png file")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("backtest of %s (boot %s, warm-up %s, SLO p99 %s)", filepath.Base(rep.Trace), rep.Boot, rep.Warmup, rep.SLOP99)
	p.X.Label.Text = "time (UTC)"
	p.Y.Label.Text = "requests/s"
	p.X.Tick.Marker = plot.TimeTicks{Format: "Jan 2\n15:04"}
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	b := newBuckets(rep)
	if err := addBand(p, b, rep); err != nil {
		return err
	}
	top := 0.0
	demand := b.series(rep.Demand, math.Max)
	for _, xy := range demand {
		top = math.Max(top, xy.Y)
	}
	if err := addLine(p, demand, "demand", color.RGBA{A: 255}, 1.2); err != nil {
		return err
	}
	for i, r := range rep.Results {
		if err := addPolicy(p, b, r, i, top); err != nil {
			return err
		}
	}
	p.Y.Min = -top * 0.04 * float64(len(rep.Results)+1)
	p.Y.Max = top * 1.45 // room for the legend above the data
	return p.Save(14*vg.Inch, 6*vg.Inch, path)
}

// buckets maps ticks to at most plotPoints x values.
type buckets struct {
	size int
	from time.Time
	step time.Duration
	n    int
}

func newBuckets(rep sim.Report) buckets {
	step := time.Duration(rep.StepSeconds * float64(time.Second))
	n := len(rep.Demand)
	return buckets{size: max(1, (n+plotPoints-1)/plotPoints), from: rep.From, step: step, n: n}
}

func (b buckets) x(i int) float64 { return float64(b.from.Add(time.Duration(i) * b.step).Unix()) }

// series reduces v per bucket with agg (max for demand, min for capacity:
// a shortfall stays visible), skipping NaN.
func (b buckets) series(v []float64, agg func(a, b float64) float64) plotter.XYs {
	var out plotter.XYs
	for i := 0; i < b.n; i += b.size {
		acc := math.NaN()
		for _, x := range v[i:min(i+b.size, b.n)] {
			if math.IsNaN(acc) {
				acc = x
			} else if !math.IsNaN(x) {
				acc = agg(acc, x)
			}
		}
		if !math.IsNaN(acc) {
			out = append(out, plotter.XY{X: b.x(i), Y: acc})
		}
	}
	return out
}

func addLine(p *plot.Plot, xys plotter.XYs, name string, c color.Color, width float64) error {
	if len(xys) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color, l.Width = c, vg.Points(width)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

func addBand(p *plot.Plot, b buckets, rep sim.Report) error {
	lo, hi := make([]float64, len(rep.Band)), make([]float64, len(rep.Band))
	for i, q := range rep.Band {
		lo[i], hi[i] = q[0], q[1]
	}
	low, high := b.series(lo, math.Min), b.series(hi, math.Max)
	if len(low) < 2 || len(low) != len(high) {
		return nil
	}
	ring := append(plotter.XYs{}, high...)
	for i := len(low) - 1; i >= 0; i-- {
		ring = append(ring, low[i])
	}
	poly, err := plotter.NewPolygon(ring)
	if err != nil {
		return err
	}
	poly.Color = color.NRGBA{R: 120, G: 170, B: 230, A: 110}
	poly.LineStyle.Width = 0
	p.Add(poly)
	p.Legend.Add(fmt.Sprintf("forecast p10–p90, %s ahead", rep.Boot+rep.Warmup), poly)
	return nil
}

// addPolicy draws the ready capacity and marks violation buckets in a row
// of its own below zero.
func addPolicy(p *plot.Plot, b buckets, r sim.Result, row int, top float64) error {
	c := policyColors[r.Policy]
	if err := addLine(p, b.series(r.Series.Ready, math.Min), r.Policy+" ready capacity", c, 1); err != nil {
		return err
	}
	var marks plotter.XYs
	y := -top * 0.04 * float64(row+1)
	for i := 0; i < b.n; i += b.size {
		for _, v := range r.Series.Violated[i:min(i+b.size, b.n)] {
			if v {
				marks = append(marks, plotter.XY{X: b.x(i), Y: y})
				break
			}
		}
	}
	if len(marks) == 0 {
		return nil
	}
	s, err := plotter.NewScatter(marks)
	if err != nil {
		return err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(1.5), Shape: draw.BoxGlyph{}}
	p.Add(s)
	p.Legend.Add(fmt.Sprintf("%s SLO violated (%.0f min)", r.Policy, r.SLOViolationMinutes), s)
	return nil
}
