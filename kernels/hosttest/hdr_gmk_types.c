//go:build cgo

/* gmk_types.h compiles alone as C11 (-Wall -Wextra -Werror): it includes what it
 * needs. TestG2_HeadersCompileAsC checks that every header has such a file. */
#include "gmk_types.h"
