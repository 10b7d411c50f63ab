package rules

import "encoding/json"

// m365Entry is one endpoint set of Microsoft's 365 endpoint web service
// (https://endpoints.office.com/endpoints/worldwide?clientrequestid=...).
type m365Entry struct {
	ID                     jsonID   `json:"id"`
	ServiceArea            string   `json:"serviceArea"`
	ServiceAreaDisplayName string   `json:"serviceAreaDisplayName"`
	URLs                   []string `json:"urls"`
	IPs                    []string `json:"ips"`
	TCPPorts               string   `json:"tcpPorts"`
	UDPPorts               string   `json:"udpPorts"`
	ExpressRoute           bool     `json:"expressRoute"`
	Category               string   `json:"category"`
	Required               bool     `json:"required"`
	Notes                  string   `json:"notes"`
}

var m365Fields = []string{"id", "serviceArea", "serviceAreaDisplayName", "urls", "ips", "tcpPorts", "udpPorts",
	"expressRoute", "category", "required", "notes"}

// m365 reads the web service's array. Each endpoint set becomes one row per URL, then one per address
// range, all with the set's id; a set with neither becomes a note row, so row numbers follow the file.
func (b *builder) m365(data []byte) error {
	d := newJSONDoc(b, data)
	if err := d.delim('[', "a list of endpoint sets"); err != nil {
		return err
	}
	for d.dec.More() {
		off := d.nextOffset()
		at := d.lines.pos(off)
		var raw json.RawMessage
		if err := d.dec.Decode(&raw); err != nil {
			return d.err(err, at, "")
		}
		var e m365Entry
		if err := d.decodeObject(raw, off, at, &e, m365Fields); err != nil {
			return err
		}
		if err := b.add(e.rowSpec(at)); err != nil {
			return err
		}
	}
	if err := d.delim(']', "end of the list"); err != nil {
		return err
	}
	return d.end()
}

func (e *m365Entry) rowSpec(at pos) rowSpec {
	rs := rowSpec{at: at, id: string(e.ID), purpose: e.ServiceAreaDisplayName, notes: e.Notes,
		required: e.Required}
	if rs.purpose == "" {
		rs.purpose = e.ServiceArea
	}
	for _, u := range e.URLs {
		rs.patterns = append(rs.patterns, posString{s: u, at: at})
	}
	for _, ip := range e.IPs {
		rs.cidrs = append(rs.cidrs, posString{s: ip, at: at})
	}
	rs.ports = []posString{{s: e.TCPPorts, at: at, proto: TCP, field: "tcpPorts"},
		{s: e.UDPPorts, at: at, proto: UDP, field: "udpPorts"}}
	return rs
}
