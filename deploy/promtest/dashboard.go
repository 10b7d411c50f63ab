package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// PanelQuery is one query of a Grafana dashboard panel.
type PanelQuery struct {
	Panel string // the panel's title
	RefID string
	Expr  string // as written in the dashboard, with Grafana's variables
}

// Dashboard is the part of a Grafana dashboard's JSON the tests check.
type Dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Panel is one dashboard panel with its queries.
type Panel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource json.RawMessage `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string          `json:"refId"`
		Expr       string          `json:"expr"`
		Datasource json.RawMessage `json:"datasource"`
	} `json:"targets"`
}

// LoadDashboard reads a dashboard JSON file; unknown fields are allowed (Grafana has many).
func LoadDashboard(path string) (*Dashboard, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read dashboard: %w", err)
	}
	var d Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("parse dashboard %q: %w", path, err)
	}
	return &d, nil
}

// Queries lists every panel's queries in panel order.
func (d *Dashboard) Queries() []PanelQuery {
	var out []PanelQuery
	for _, p := range d.Panels {
		for _, t := range p.Targets {
			out = append(out, PanelQuery{Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
		}
	}
	return out
}

// variables are the values Grafana would put in for the dashboard's variables when every gateway is selected
// and the time range is the last five minutes.
var variables = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__range", "5m",
	"$instance", ".*",
)

var leftover = regexp.MustCompile(`\$\{?\w+`)

// Expand replaces Grafana's variables in a query by the values for "all gateways, last five minutes"; a
// variable it does not know is an error, so a new one cannot slip past the tests.
func Expand(expr string) (string, error) {
	out := variables.Replace(expr)
	if v := leftover.FindString(out); v != "" {
		return "", fmt.Errorf("query %q: unknown variable %s", expr, v)
	}
	return out, nil
}

// metricName matches the intunecap metric names a query or rule mentions.
var metricName = regexp.MustCompile(`\bintunecap_[a-z_]+`)

// MetricNames lists the intunecap_ metric names in a PromQL text, in order of appearance.
func MetricNames(text string) []string { return metricName.FindAllString(text, -1) }

// WaitDashboard runs the dashboard's queries (RunDashboard) until none fails or ctx ends, and returns the last
// round's errors: a rate() over a series scraped once has no data until the next scrape.
func (s *Server) WaitDashboard(ctx context.Context, d *Dashboard, requireData bool) []error {
	var errs []error
	poll(ctx, func() (bool, error) {
		errs = s.RunDashboard(ctx, d, requireData)
		return len(errs) == 0, nil
	})
	return errs
}

// RunDashboard runs every query of d against the server with the variables put in, and returns one error per
// query that is not valid PromQL or, with requireData, that returns no data.
func (s *Server) RunDashboard(ctx context.Context, d *Dashboard, requireData bool) []error {
	var errs []error
	for _, q := range d.Queries() {
		expr, err := Expand(q.Expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("panel %q: %w", q.Panel, err))
			continue
		}
		got, err := s.Query(ctx, expr)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("panel %q query %s: %w", q.Panel, q.RefID, err))
		case requireData && len(got) == 0:
			errs = append(errs, fmt.Errorf("panel %q query %s returns no data: %s", q.Panel, q.RefID, expr))
		}
	}
	return errs
}
