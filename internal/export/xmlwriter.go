package export

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// xmlWriter writes indented XML with exactly the element names and namespace
// prefixes it is given, which encoding/xml's Marshal cannot do for prefixed
// names such as "etd:NIP".
type xmlWriter struct {
	buf   bytes.Buffer
	depth int
}

func newXMLWriter() *xmlWriter {
	x := &xmlWriter{}
	x.buf.WriteString(xml.Header[:len(xml.Header)-1]) // without its newline
	x.buf.WriteString("\n")
	return x
}

// open starts an element; attrs are name, value pairs.
func (x *xmlWriter) open(name string, attrs ...string) {
	x.indent()
	x.start(name, attrs)
	x.buf.WriteString(">\n")
	x.depth++
}

func (x *xmlWriter) close(name string) {
	x.depth--
	x.indent()
	x.buf.WriteString("</" + name + ">\n")
}

// leaf writes an element with text content; attrs are name, value pairs.
func (x *xmlWriter) leaf(name, text string, attrs ...string) {
	x.indent()
	x.start(name, attrs)
	x.buf.WriteString(">")
	xml.EscapeText(&x.buf, []byte(text))
	x.buf.WriteString("</" + name + ">\n")
}

// optLeaf writes a leaf only when text is not empty.
func (x *xmlWriter) optLeaf(name, text string) {
	if text != "" {
		x.leaf(name, text)
	}
}

func (x *xmlWriter) start(name string, attrs []string) {
	x.buf.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.buf.WriteString(" " + attrs[i] + `="`)
		xml.EscapeText(&x.buf, []byte(attrs[i+1]))
		x.buf.WriteString(`"`)
	}
}

func (x *xmlWriter) indent() {
	x.buf.WriteString(strings.Repeat("  ", x.depth))
}
