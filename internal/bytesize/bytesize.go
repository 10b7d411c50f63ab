// Package bytesize reads sizes given on a command line, such as 100MB or 1GiB. It is a package of its own so
// that its fuzz target is built without the rest of the program (go test -fuzz instruments every package of
// the binary, and a small binary runs many more executions a second).
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads a size given on a command line (live --write-max, --buffer): a number of bytes with an optional unit (KB, MB, GB in powers of 1000, KiB, MiB,
// GiB in powers of 1024), as tcpdump's -C counts in millions of bytes.
func Parse(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"k", 1e3},
		{"m", 1e6}, {"g", 1e9}, {"b", 1}}
	low := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(low, u.suffix) {
			low, mult = strings.TrimSpace(strings.TrimSuffix(low, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(low, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q (want a number of bytes, e.g. 100MB or 1GiB)", s)
	}
	return n * mult, nil
}
