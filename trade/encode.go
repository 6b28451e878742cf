package trade

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendBatch appends the JSON array of ts to dst and returns the extended buffer. It does not
// allocate when dst has room, and it does not use reflection: the producer calls it on its hot
// path. The output is byte-for-byte what encoding/json would produce for the same trades except
// that '<', '>' and '&' are not escaped.
func AppendBatch(dst []byte, ts []Trade) []byte {
	var tc timeCache
	dst = append(dst, '[')
	for i := range ts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTrade(dst, &ts[i], &tc)
	}
	return append(dst, ']')
}

// AppendJSON appends the JSON object of t (fields in contract order) to dst.
func AppendJSON(dst []byte, t Trade) []byte {
	var tc timeCache
	return appendTrade(dst, &t, &tc)
}

func appendTrade(dst []byte, t *Trade, tc *timeCache) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, t.ID, 10)
	dst = append(dst, `,"ticker":`...)
	dst = appendString(dst, t.Ticker)
	dst = append(dst, `,"created_at":"`...)
	dst = tc.append(dst, t.CreatedAt)
	dst = append(dst, `","price":`...)
	dst = appendFloat(dst, t.Price)
	dst = append(dst, `,"market_cap":`...)
	dst = appendFloat(dst, t.MarketCap)
	dst = append(dst, `,"volume":`...)
	dst = strconv.AppendInt(dst, t.Volume, 10)
	dst = append(dst, `,"sector":`...)
	dst = appendString(dst, t.Sector)
	return append(dst, '}')
}

// timeCache formats times in TimeLayout, reusing the "2006-01-02T15:04:05." prefix while
// consecutive trades fall in the same second (the common case in a batch): formatting with
// time.Format costs more than the rest of a trade's JSON.
type timeCache struct {
	sec    int64 // Unix second of prefix; valid only when ok
	ok     bool
	prefix [20]byte
}

// append writes t (converted to UTC, truncated to microseconds) in TimeLayout. The zero time is
// written too; Validate rejects it.
func (c *timeCache) append(dst []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y > 9999 {
		return t.UTC().Truncate(time.Microsecond).AppendFormat(dst, TimeLayout) // not cacheable: prefix length differs
	}
	sec := t.Unix()
	if !c.ok || sec != c.sec {
		c.sec, c.ok = sec, true
		time.Unix(sec, 0).UTC().AppendFormat(c.prefix[:0], "2006-01-02T15:04:05.")
	}
	dst = append(dst, c.prefix[:]...)
	us := t.Nanosecond() / 1000
	var frac [7]byte
	for i := 5; i >= 0; i-- {
		frac[i] = byte('0' + us%10)
		us /= 10
	}
	frac[6] = 'Z'
	return append(dst, frac[:]...)
}

// appendFloat writes f as JSON numbers are written by encoding/json: shortest representation,
// plain digits between 1e-6 and 1e21, exponent form outside. NaN and infinities are not valid
// JSON; they are written as null so that the element is rejected by the job rather than
// corrupting the whole array.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	// Fast path: whole numbers below 2^53 (IDX prices, most market caps) print as integers,
	// which is what the shortest 'f' formatting gives for them too.
	if abs < 1<<53 && f == math.Trunc(f) && (f != 0 || !math.Signbit(f)) {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 -> 1e-7, like encoding/json.
		n := len(dst) - start
		if n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping quotes, backslashes and control characters
// and replacing invalid UTF-8 with U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript; encoding/json escapes them.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
