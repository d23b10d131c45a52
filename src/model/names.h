/* names.h: enum <-> YAML spelling. Each table is indexed by the enum and ends at its _MAX.
 * A NULL entry (the "none" of bindings and backends) has no spelling users may write. */
#pragma once
#include <stddef.h>

#include "model/model.h"

typedef struct pf_enum {
        const char *what;               /* for messages: "forward mode" */
        const char *const *names;
        size_t n;
} pf_enum;

extern const pf_enum pf_kind_enum, pf_attach_policy_enum, pf_macvlan_mode_enum,
        pf_subnet_dhcp_enum, pf_link_state_enum, pf_forward_enum, pf_pool_type_enum,
        pf_domain_type_enum, pf_boot_dev_enum, pf_disk_format_enum, pf_disk_bus_enum,
        pf_nic_model_enum, pf_binding_enum, pf_backend_enum, pf_protocol_enum,
        pf_constraint_type_enum;

/* pf_enum_name: the spelling of v, or "?" when out of range. */
const char *pf_enum_name(const pf_enum *e, int v);
/* pf_enum_lookup: the value spelled s (exact, case-sensitive), or -1. */
int pf_enum_lookup(const pf_enum *e, const char *s);
