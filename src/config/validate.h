/* validate.h: the checks that need more than one field: pairing, uniqueness, ranges inside
 * subnets, references between resources. Runs after loading, before anything touches the host;
 * findings go to c->diags. Pure: no I/O. */
#pragma once
#include "config/load.h"

void pf_validate(pf_config *c);
/* pf_warn_undeclared: what podform validate, without a host, can only warn about: VM references
 * to libvirt networks and storage pools nothing in the configuration declares (they may be
 * live), and host links (host interfaces, parents, ports, Network bridges and forward
 * interfaces) whose names are close to a declared link's. The plan makes them errors when
 * the host has none of that name either. */
void pf_warn_undeclared(pf_diags *diags, const pf_model *m);
