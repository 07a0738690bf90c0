package config

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error Parse, Load and Tree.Modules return is an
// *Error wrapping one of them (or, for Load, an error of the file system).
var (
	ErrSyntax        = errors.New("config: YAML syntax error")
	ErrUnknownField  = errors.New("config: unknown field")
	ErrMissing       = errors.New("config: missing field")
	ErrInvalid       = errors.New("config: invalid value")
	ErrDuplicate     = errors.New("config: duplicate name")
	ErrUndefined     = errors.New("config: undefined reference")
	ErrUnknownModule = errors.New("config: unknown module")
	ErrModule        = errors.New("config: module constructor failed")
)

// Error is a configuration error: where (file:line), which field (a path
// such as "supervisor.children[2].strategy"), and what is wrong. errors.Is
// matches it against its sentinel.
type Error struct {
	Pos
	Field string // path of the field; empty for syntax errors
	Msg   string
	Err   error // the sentinel (or the module constructor's error)
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Pos, e.Field, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }
