package export

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// asciiFold maps letters with diacritics, first the Polish ones, to their base
// ASCII letters, and a few typographic characters to ASCII equivalents.
var asciiFold = map[rune]string{
	'ą': "a", 'ć': "c", 'ę': "e", 'ł': "l", 'ń': "n", 'ó': "o", 'ś': "s", 'ź': "z", 'ż': "z",
	'Ą': "A", 'Ć': "C", 'Ę': "E", 'Ł': "L", 'Ń': "N", 'Ó': "O", 'Ś': "S", 'Ź': "Z", 'Ż': "Z",
	'ä': "a", 'ö': "o", 'ü': "u", 'ß': "ss", 'Ä': "A", 'Ö': "O", 'Ü': "U",
	'á': "a", 'é': "e", 'í': "i", 'ú': "u", 'ý': "y", 'Á': "A", 'É': "E", 'Í': "I", 'Ú': "U", 'Ý': "Y",
	'č': "c", 'ď': "d", 'ě': "e", 'ň': "n", 'ř': "r", 'š': "s", 'ť': "t", 'ů': "u", 'ž': "z",
	'Č': "C", 'Ď': "D", 'Ě': "E", 'Ň': "N", 'Ř': "R", 'Š': "S", 'Ť': "T", 'Ů': "U", 'Ž': "Z",
	'à': "a", 'è': "e", 'ç': "c", 'ô': "o", 'â': "a", 'ê': "e", 'î': "i", 'û': "u",
	'„': "'", '”': "'", '“': "'", '‘': "'", '’': "'", '«': "'", '»': "'", '"': "'",
	'–': "-", '—': "-", '…': "...", '&': "+", '_': "-", ';': ",", '\u00a0': " ",
}

// inSWIFTX reports whether c is in the SWIFT X character set, apart from CR
// and LF: a-z A-Z 0-9 / - ? : ( ) . , ' + and space.
func inSWIFTX(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("/-?:().,'+ ", r)
}

// swiftText returns s in the SWIFT X character set on one line: Polish and
// other accented letters lose their diacritics, a few typographic characters
// become their ASCII look-alikes, white space becomes single spaces, and every
// other character is dropped.
func swiftText(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		var out string
		if inSWIFTX(r) {
			out = string(r)
		} else if f, ok := asciiFold[r]; ok {
			if f == " " {
				space = true
				continue
			}
			out = f
		} else {
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(out)
	}
	return b.String()
}

// oneLine collapses white space (including line breaks) to single spaces,
// drops other control characters and trims the ends.
func oneLine(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r) || r == utf8.RuneError:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// truncate returns the first n runes of s, without trailing spaces.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			return strings.TrimRight(s[:pos], " ")
		}
		i++
	}
	return s
}

// chunks splits s into pieces of at most n runes, at most max pieces; the
// rest of s is dropped.
func chunks(s string, n, max int) []string {
	var out []string
	for s != "" && len(out) < max {
		piece := s
		i := 0
		for pos := range s {
			if i == n {
				piece = s[:pos]
				break
			}
			i++
		}
		out = append(out, piece)
		s = s[len(piece):]
	}
	return out
}
