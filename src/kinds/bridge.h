/* bridge.h: the Bridge kind (a Linux bridge; spec section 2). */
#pragma once
#include "kinds/kind.h"

extern const pf_kind_ops pf_bridge_kind;

/* The declared Bridge that lists `port` among its ports, or NULL. */
const char *pf_bridge_declared_with_port(const pf_model *m, const char *port);
