/* ejson_int.h: double formatting shared in lib/ (Extended JSON, $toString). */
#ifndef SP_EJSON_INT_H
#define SP_EJSON_INT_H

#include <stddef.h>

/* Room for any sp_ejson_format_double result with its NUL: the longest is
 * "-2.2250738585072014E-308" (24 bytes). */
#define SP_DOUBLE_BUFSZ 32

/*
 * The shortest decimal that reads back (round to nearest even) as the
 * finite double |x|: writes 1 to 17 digits into digits (no sign, no NUL),
 * sets *dp so that |x| = 0.d1d2d3... * 10^*dp, and returns the number of
 * digits. Zero gives 0 digits and *dp = 0. When two candidates are equally
 * short, the one nearer x wins, as in Go's strconv and Ryu.
 */
int sp_ejson_double_digits(double x, char digits[17], int *dp);

/*
 * Writes x as the Go driver's formatDouble does, which is what mongoexport
 * prints: strconv.FormatFloat(x, 'G', -1, 64), then ".0" when the result
 * has neither '.' nor 'E' ("1.0", "-0.0", "100000.0", "1E+06", "1E-07",
 * "1.5E+300"); "Infinity", "-Infinity" and "NaN" for the others.
 * NUL-terminates out (SP_DOUBLE_BUFSZ bytes) and returns the length.
 */
size_t sp_ejson_format_double(char *out, double x);

#endif /* SP_EJSON_INT_H */
