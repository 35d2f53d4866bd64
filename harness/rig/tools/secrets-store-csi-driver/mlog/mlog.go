// Package mlog is the rig's stand-in for monis.app/mlog (see go.mod): the functions the upstream driver calls,
// implemented over klog.
package mlog

import (
	"context"
	"fmt"

	"k8s.io/klog/v2"
)

// LogFormat selects text or JSON output.
type LogFormat string

const (
	// FormatText is klog's default text output.
	FormatText LogFormat = "text"
	// FormatJSON is accepted; the stand-in keeps klog's text output (logs are read by humans in the rig).
	FormatJSON LogFormat = "json"
)

// Setup returns the function that flushes logs on exit.
func Setup() func() {
	return klog.Flush
}

// ValidateAndSetKlogLevelAndFormatGlobally checks the level and format the driver parsed from its flags.
func ValidateAndSetKlogLevelAndFormatGlobally(_ context.Context, level klog.Level, format LogFormat) error {
	if level < 0 {
		return fmt.Errorf("invalid log level %d: must be >= 0", level)
	}
	if format != FormatText && format != FormatJSON {
		return fmt.Errorf("invalid log format %q: must be %q or %q", format, FormatText, FormatJSON)
	}
	return nil
}

// Error logs msg with err.
func Error(msg string, err error, keysAndValues ...any) {
	klog.ErrorS(err, msg, keysAndValues...)
}

// Fatal logs err and exits.
func Fatal(err error, keysAndValues ...any) {
	klog.ErrorS(err, "fatal error", keysAndValues...)
	klog.FlushAndExit(klog.ExitFlushTimeout, 1)
}
