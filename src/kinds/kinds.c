/* kinds.c: every resource kind, in creation order (deletion runs the other way). The order
 * classes say why: a VXLAN link may be a bridge's port, a macvlan may sit on a bridge, libvirt
 * networks and domains sit on host links, volumes live in pools, domains use all of them, and a domain's NAT rules point at its address. */
#include "config.h"
#include "kinds/kind.h"

#include <string.h>

#include "kinds/bridge.h"
#include "kinds/domain.h"
#include "kinds/macvlan.h"
#include "kinds/nat.h"
#include "kinds/network.h"
#include "kinds/pool.h"
#include "kinds/volume.h"
#include "kinds/vxlan.h"
#include "model/names.h"

const pf_kind_ops *const pf_kinds[_PF_R_MAX] = {
        [PF_R_VXLAN] = &pf_vxlan_kind,
        [PF_R_BRIDGE] = &pf_bridge_kind,
        [PF_R_MACVLAN] = &pf_macvlan_kind,
        [PF_R_MACVTAP] = &pf_macvtap_kind,
        [PF_R_POOL] = &pf_pool_kind,
        [PF_R_VOLUME] = &pf_volume_kind,
        [PF_R_NETWORK] = &pf_network_kind,
        [PF_R_DOMAIN] = &pf_domain_kind,
        [PF_R_NAT] = &pf_nat_kind,
};

/* Whether an object of order class `later` may need one of class `earlier` (the comment above). */
static bool order_needs(pf_order later, pf_order earlier) {
        switch (later) {
        case PF_ORDER_LINK:
        case PF_ORDER_INDEPENDENT: return false;
        case PF_ORDER_MASTER_LINK: return earlier == PF_ORDER_LINK;
        case PF_ORDER_STACKED_LINK: return earlier == PF_ORDER_LINK || earlier == PF_ORDER_MASTER_LINK;
        case PF_ORDER_IN_POOL: return earlier == PF_ORDER_INDEPENDENT;
        case PF_ORDER_NEEDS_LINKS: return earlier <= PF_ORDER_STACKED_LINK;
        case PF_ORDER_NEEDS_ALL: return earlier < PF_ORDER_NEEDS_ALL;
        case PF_ORDER_NEEDS_GUEST: return earlier < PF_ORDER_NEEDS_GUEST;
        }
        return true;
}

unsigned pf_kind_needs(const pf_kind_ops *ops) {
        unsigned mask = 0;
        PF_EACH_KIND(other)
                if (other != ops && order_needs(ops->order, other->order))
                        mask |= 1u << other->rkind;
        return mask;
}

const char *pf_kind_title(const pf_kind_ops *ops) { return pf_kind_enum.names[ops->model_kind]; }

void pf_kind_show_head(const pf_kind_ops *ops, const pf_obj *live, pf_yaml_out *y) {
        pf_yaml_document(y, !live->owned ? "not podform's: applied, podform adopts it, manages what this declares "
                                           "and never deletes it"
                            : ops->link ? "podform's (it carries podform's alias): applied, podform manages all of it"
                                        : "podform's (its ownership record names it): applied, podform manages all "
                                          "of it");
        pf_yaml_scalar(y, "apiVersion", PF_YAML_STR, "podform/v1");
        pf_yaml_scalar(y, "kind", PF_YAML_STR, pf_kind_title(ops));
        pf_yaml_map(y, "metadata");
        pf_yaml_scalar(y, "name", PF_YAML_STR, live->name);
        pf_yaml_end(y);
}

const char *pf_kind_show_bool(const pf_obj *live, const char *key) {
        const pf_field *f = pf_obj_field(live, key);
        return f && !strcmp(f->value, "yes") ? "true" : "false";
}
