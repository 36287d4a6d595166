/* SPDX-License-Identifier: BSD-2-Clause */
/* nbdkit-rust: parsing probabilities on nbdkit < 1.34.
 *
 * nbdkit_parse_probability appeared in nbdkit 1.34.  The host table
 * promises it on every nbdkit, so when the running nbdkit lacks it the
 * loader parses the same grammar itself (nbdkit_parse_probability(3)):
 *
 *   "0.1", "1e-1"   a number
 *   "10%"           a percentage
 *   "1:10", "1/10"  a ratio; "0:0" is 0, any other N:0 is an error
 *
 * The result must be finite and not negative; it may be above 1, as
 * with nbdkit (callers that need [0, 1] check that themselves).
 */

#include <math.h>
#include <stdlib.h>

#include "rust-loader.h"

int
rust_parse_probability (const char *what, const char *str, double *r)
{
  char *end, *end2;
  double d, d2;

  d = strtod (str, &end);
  if (end == str)
    goto bad;

  if (*end == ':' || *end == '/') {
    d2 = strtod (end + 1, &end2);
    if (end2 == end + 1 || *end2 != '\0')
      goto bad;
    if (d2 == 0) {
      if (d != 0)
        goto bad;
    }
    else
      d /= d2;
  }
  else if (*end == '%' && end[1] == '\0')
    d /= 100;
  else if (*end != '\0')
    goto bad;

  if (!isfinite (d) || signbit (d))
    goto bad;

  if (r)
    *r = d;
  return 0;

 bad:
  nbdkit_error ("%s: could not parse '%s' as a probability", what, str);
  return -1;
}
