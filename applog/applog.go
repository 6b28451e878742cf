// Package applog builds the *slog.Logger of every program of the pipeline (producer, dashboard,
// the streaming job, stackctl) from the same two settings, so that they log alike and a newcomer
// changes logging in one place:
//
//	LOG_LEVEL   debug | info | warn | error   default info    flag -log-level
//	LOG_FORMAT  text | json                   default text    flag -log-format
//
// Programs read the Settings with their configuration (FromEnv, then Flags), report
// Settings.Validate's error beside their own, and build the logger with New once the
// configuration is valid. Components then tag it with their name (logger.With("component", …)).
// The package has no state; it depends on the standard library only, so every module can
// require it.
package applog

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// The environment variables and their defaults.
const (
	EnvLevel      = "LOG_LEVEL"
	EnvFormat     = "LOG_FORMAT"
	DefaultLevel  = "info"
	DefaultFormat = FormatText
)

// The log formats: slog's TextHandler (key=value, for people) and JSONHandler (for collectors).
const (
	FormatText = "text"
	FormatJSON = "json"
)

var levels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// Settings are the logging settings of a program. The zero value means the defaults.
type Settings struct {
	Level  string // LOG_LEVEL: debug, info, warn or error (any case); "" = info
	Format string // LOG_FORMAT: text or json (any case); "" = text
}

// FromEnv reads LOG_LEVEL and LOG_FORMAT through getenv, with the defaults for unset or blank
// variables. It does not validate: call Validate.
func FromEnv(getenv func(string) string) Settings {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	return Settings{Level: get(EnvLevel, DefaultLevel), Format: get(EnvFormat, DefaultFormat)}
}

// Flags registers -log-level and -log-format on fs; they override what FromEnv read, so call
// FromEnv first.
func (s *Settings) Flags(fs *flag.FlagSet) {
	fs.StringVar(&s.Level, "log-level", s.Level, "log level: debug, info, warn or error ["+EnvLevel+"]")
	fs.StringVar(&s.Format, "log-format", s.Format, "log format: text or json ["+EnvFormat+"]")
}

// Validate reports every bad setting at once, each naming its variable and the accepted values.
func (s Settings) Validate() error {
	var errs []error
	if _, err := s.level(); err != nil {
		errs = append(errs, err)
	}
	if _, err := s.format(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s Settings) level() (slog.Level, error) {
	v := strings.ToLower(strings.TrimSpace(s.Level))
	if v == "" {
		v = DefaultLevel
	}
	l, ok := levels[v]
	if !ok {
		return 0, fmt.Errorf("%s=%q (-log-level): want debug, info, warn or error", EnvLevel, s.Level)
	}
	return l, nil
}

func (s Settings) format() (string, error) {
	v := strings.ToLower(strings.TrimSpace(s.Format))
	switch v {
	case "":
		return DefaultFormat, nil
	case FormatText, FormatJSON:
		return v, nil
	}
	return "", fmt.Errorf("%s=%q (-log-format): want text or json", EnvFormat, s.Format)
}

// New returns a logger writing to w (the programs give os.Stderr) at the level and in the
// format of s, or Validate's error.
func (s Settings) New(w io.Writer) (*slog.Logger, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	level, _ := s.level()
	format, _ := s.format()
	opts := &slog.HandlerOptions{Level: level}
	if format == FormatJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

// LogValue logs the settings as a group (level, format), for a program's "starting" line.
func (s Settings) LogValue() slog.Value {
	level, format := s.Level, s.Format
	if l, err := s.level(); err == nil {
		level = strings.ToLower(l.String())
	}
	if f, err := s.format(); err == nil {
		format = f
	}
	return slog.GroupValue(slog.String("level", level), slog.String("format", format))
}

// Redacted is how a configuration's LogValue shows a secret: "[redacted]" when it is set, ""
// when it is not, so that the log tells a missing password from a present one without showing
// it.
func Redacted(secret string) slog.Value {
	if secret == "" {
		return slog.StringValue("")
	}
	return slog.StringValue("[redacted]")
}
