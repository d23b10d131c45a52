/* validate.h: the checks that need more than one field: pairing, uniqueness, ranges inside
 * subnets, references between resources. Runs after loading, before anything touches the host;
 * findings go to c->diags. Pure: no I/O. */
#pragma once
#include "config/load.h"

void pf_validate(pf_config *c);
