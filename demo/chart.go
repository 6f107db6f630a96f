package demo

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	demandColor   = color.RGBA{R: 30, G: 30, B: 30, A: 255}
	capacityColor = color.RGBA{R: 20, G: 110, B: 200, A: 255}
	bandColor     = color.NRGBA{R: 250, G: 160, B: 40, A: 90}
	p99Color      = color.RGBA{R: 200, G: 40, B: 40, A: 255}
	peakColor     = color.NRGBA{R: 120, G: 120, B: 120, A: 40}
)

// drawChart writes a PNG with one row per run: on the left demand, the
// forecast band serve logged and the capacity taking traffic (req/s); on
// the right the clients' p99 latency and errors per second. The peak
// window is shaded in both.
func drawChart(s *Summary, path string) error {
	rows := make([][]*plot.Plot, len(s.Runs))
	for i, r := range s.Runs {
		left, err := capacityPlot(s, r)
		if err != nil {
			return err
		}
		right, err := latencyPlot(s, r)
		if err != nil {
			return err
		}
		rows[i] = []*plot.Plot{left, right}
	}
	img := vgimg.New(34*vg.Centimeter, vg.Length(11*len(rows))*vg.Centimeter)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(rows), Cols: 2, PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Millimeter * 4, PadBottom: vg.Millimeter * 4, PadLeft: vg.Millimeter * 4, PadRight: vg.Millimeter * 4}
	canvases := plot.Align(rows, tiles, dc)
	for i := range rows {
		for j := range rows[i] {
			rows[i][j].Draw(canvases[i][j])
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func capacityPlot(s *Summary, r Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: demand, forecast and capacity", r.Policy)
	p.X.Label.Text = "seconds into the replayed day"
	p.Y.Label.Text = "requests/s"
	p.Legend.Top, p.Legend.Left = true, true
	maxY := 0.0
	demand, capacity := make(plotter.XYs, len(r.Seconds)), make(plotter.XYs, len(r.Seconds))
	var band []plotter.XY
	var upper, lower plotter.XYs
	for i, sec := range r.Seconds {
		demand[i] = plotter.XY{X: float64(sec.T), Y: sec.Demand}
		capacity[i] = plotter.XY{X: float64(sec.T), Y: sec.ReadyCap}
		maxY = max(maxY, sec.Demand, sec.ReadyCap, sec.P90)
		if sec.P90 > 0 {
			upper = append(upper, plotter.XY{X: float64(sec.T), Y: sec.P90})
			lower = append(lower, plotter.XY{X: float64(sec.T), Y: sec.P10})
		}
	}
	addPeakShade(p, s, maxY*1.1)
	if len(upper) > 1 {
		band = append(band, upper...)
		for i := len(lower) - 1; i >= 0; i-- {
			band = append(band, lower[i])
		}
		poly, err := plotter.NewPolygon(plotter.XYs(band))
		if err != nil {
			return nil, err
		}
		poly.Color, poly.LineStyle.Width = bandColor, 0
		p.Add(poly)
		p.Legend.Add("forecast p10–p90", poly)
	}
	if err := addLine(p, demand, demandColor, "demand (replayed)", nil); err != nil {
		return nil, err
	}
	err := addLine(p, capacity, capacityColor, "capacity taking traffic", []vg.Length{vg.Points(4), vg.Points(2)})
	p.Y.Min, p.Y.Max = 0, maxY*1.1
	return p, err
}

func latencyPlot(s *Summary, r Result) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: what clients saw", r.Policy)
	p.X.Label.Text = "seconds into the replayed day"
	p.Y.Label.Text = "p99 latency (ms) / errors per second"
	p.Legend.Top, p.Legend.Left = true, true
	lat, errs := make(plotter.XYs, len(r.Seconds)), make(plotter.XYs, len(r.Seconds))
	maxY := 1.0
	for i, sec := range r.Seconds {
		lat[i] = plotter.XY{X: float64(sec.T), Y: sec.P99MS}
		errs[i] = plotter.XY{X: float64(sec.T), Y: float64(sec.Errors)}
		maxY = max(maxY, sec.P99MS, float64(sec.Errors))
	}
	addPeakShade(p, s, maxY*1.1)
	if err := addLine(p, lat, p99Color, "client p99 (ms)", nil); err != nil {
		return nil, err
	}
	err := addLine(p, errs, demandColor, "client errors/s", []vg.Length{vg.Points(2), vg.Points(2)})
	p.Y.Min, p.Y.Max = 0, maxY*1.1
	return p, err
}

func addLine(p *plot.Plot, xy plotter.XYs, c color.Color, name string, dashes []vg.Length) error {
	l, err := plotter.NewLine(xy)
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = c, vg.Points(1.5), dashes
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// addPeakShade shades the peak window (the rise, top and fall at half the
// peak's height) and names it in the legend.
func addPeakShade(p *plot.Plot, s *Summary, top float64) {
	from, to := float64(s.PeakFromS), float64(s.PeakToS)
	poly, err := plotter.NewPolygon(plotter.XYs{{X: from, Y: 0}, {X: to, Y: 0}, {X: to, Y: top}, {X: from, Y: top}})
	if err != nil {
		return
	}
	poly.Color, poly.LineStyle.Width = peakColor, 0
	p.Add(poly)
	p.Legend.Add("peak window", poly)
}
