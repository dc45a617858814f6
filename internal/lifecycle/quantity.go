package lifecycle

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
)

// Quantity is a Kubernetes resource quantity as written in a template: a
// decimal number with an optional suffix, "4", "500m", "0.5", "16Gi", "1G".
// It is kept as written; [Quantity.MilliCPU] and [Quantity.Bytes] read it.
//
// Suffixes: m (thousandths), k M G T P E (powers of 1000) and Ki Mi Gi Ti Pi
// Ei (powers of 1024). Signs and the exponent forms Kubernetes also accepts
// ("1e3") are refused: nobody asks for -2 cores, and "16Gi" is clearer.
type Quantity string

// maxQuantityLen bounds the text parsed, so that no input costs much.
const maxQuantityLen = 32

var quantityRE = regexp.MustCompile(`^([0-9]*)(?:\.([0-9]*))?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`)

var suffixes = map[string]*big.Rat{
	"":  big.NewRat(1, 1),
	"m": big.NewRat(1, 1000),
}

func init() {
	decimal, binary := big.NewInt(1), big.NewInt(1)
	for _, s := range []string{"k", "M", "G", "T", "P", "E"} {
		decimal = new(big.Int).Mul(decimal, big.NewInt(1000))
		binary = new(big.Int).Mul(binary, big.NewInt(1024))
		suffixes[s] = new(big.Rat).SetInt(decimal)
		suffixes[strings.ToUpper(s[:1])+"i"] = new(big.Rat).SetInt(binary)
	}
}

// parse returns q's exact value and its suffix.
func (q Quantity) parse() (*big.Rat, string, error) {
	s := string(q)
	if len(s) > maxQuantityLen {
		return nil, "", errors.New("is too long to be a quantity")
	}
	m := quantityRE.FindStringSubmatch(s)
	if m == nil || m[1]+m[2] == "" {
		return nil, "", fmt.Errorf("%q is not a quantity", s)
	}
	digits, ok := new(big.Int).SetString(m[1]+m[2], 10)
	if !ok {
		return nil, "", fmt.Errorf("%q is not a quantity", s)
	}
	v := new(big.Rat).SetFrac(digits, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(m[2]))), nil))
	return v.Mul(v, suffixes[m[3]]), m[3], nil
}

var maxInt64 = new(big.Rat).SetInt64(1<<63 - 1)

// MilliCPU returns q in thousandths of a core: "4" is 4000, "0.5" and "500m"
// are 500. Byte suffixes are refused, as is anything finer than 1m.
func (q Quantity) MilliCPU() (int64, error) {
	v, suffix, err := q.parse()
	if err != nil {
		return 0, fmt.Errorf("%w; write cores as \"4\" or \"0.5\", or millicores as \"500m\"", err)
	}
	if strings.HasSuffix(suffix, "i") || (suffix != "" && suffix != "m") {
		return 0, fmt.Errorf("%q: cpu is counted in cores, write \"4\" or \"500m\" without a byte suffix", string(q))
	}
	v.Mul(v, big.NewRat(1000, 1))
	if !v.IsInt() {
		return 0, fmt.Errorf("%q is finer than 1m, a thousandth of a core", string(q))
	}
	if v.Cmp(maxInt64) > 0 {
		return 0, fmt.Errorf("%q is too large", string(q))
	}
	return v.Num().Int64(), nil
}

// Bytes returns q in bytes: "16Gi" is 17179869184, "1G" is 1000000000. The
// suffix "m" is refused: "512m" would be half a byte, never what was meant.
func (q Quantity) Bytes() (int64, error) {
	s := string(q)
	if t, ok := strings.CutSuffix(s, "B"); ok && t != "" && strings.ContainsAny(t[len(t)-1:], "kKMGTPE") {
		unit := strings.ToUpper(t[len(t)-1:])
		return 0, fmt.Errorf("%q is not a quantity; write %q (power of 1024) or %q (power of 1000), without the B", s, t[:len(t)-1]+unit+"i", t[:len(t)-1]+strings.Replace(unit, "K", "k", 1))
	}
	v, suffix, err := q.parse()
	if err != nil {
		return 0, fmt.Errorf("%w; write memory as \"16Gi\", \"512Mi\" or a number of bytes", err)
	}
	if suffix == "m" {
		return 0, fmt.Errorf("%q means thousandths of a byte; did you mean %q?", s, strings.TrimSuffix(s, "m")+"Mi")
	}
	if !v.IsInt() {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	if v.Cmp(maxInt64) > 0 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return v.Num().Int64(), nil
}
