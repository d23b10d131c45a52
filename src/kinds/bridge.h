/* bridge.h: the Bridge kind (a Linux bridge; spec section 2). */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_bridge_kind;

/* The declared Bridge that lists `port` among its ports, or NULL. */
const char *pf_bridge_declared_with_port(const pf_model *m, const char *port);
/* pf_bridge_take_back: a link (re)created under the name of a declared port becomes that
 * bridge's port again, when the bridge is there already (a recreated VXLAN tunnel). */
int pf_bridge_take_back(pf_kind_ctx *k, const char *port, const pf_action *a, char **err);
