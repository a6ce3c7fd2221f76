package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// logFlags adds --log-level (and, when formats is true, --log-format) to a
// command that serves the bank; the function it returns makes the logger,
// writing to w, once the flags are parsed.
func logFlags(fs *flag.FlagSet, defaultFormat string, formats bool) func(w io.Writer) (*slog.Logger, error) {
	level := fs.String("log-level", "info", "the least important log `level` written: debug (every API call), info, warn, error")
	format := &defaultFormat
	if formats {
		format = fs.String("log-format", defaultFormat, "the log's `format` on stderr: text (one line of key=value pairs) or json (one JSON object a line)")
	}
	return func(w io.Writer) (*slog.Logger, error) {
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(*level)); err != nil {
			return nil, usageError{fmt.Sprintf("--log-level %q: give debug, info, warn or error", *level)}
		}
		opts := &slog.HandlerOptions{Level: lv}
		switch strings.ToLower(*format) {
		case "json":
			return slog.New(slog.NewJSONHandler(w, opts)), nil
		case "text":
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return nil, usageError{fmt.Sprintf("--log-format %q: give text or json", *format)}
	}
}
