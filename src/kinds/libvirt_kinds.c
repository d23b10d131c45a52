/* libvirt_kinds.c: the libvirt kinds' tables. Observing and rendering them is still one pass
 * in libvirt/host.c (pf_lv_build), run by the stages as one step. */
#include "config.h"
#include "kinds/libvirt_kinds.h"

#include <string.h>

#include "kinds/link.h"
#include "libvirt/host.h"

static int lv_apply(const pf_kind_ops *self, pf_kind_ctx *k, const pf_action *a, char **err) {
        (void) self;
        const pf_driver *lv = pf_lv_driver(k->lv);
        return lv->apply(lv->ctx, a, err);
}

/* Libvirt networks that sit on host links: their bridge or forward devices must exist. */
static void network_check(const pf_kind_ops *self, pf_kind_ctx *k, const pf_objset *have, pf_diags *d) {
        (void) self;
        (void) have;
        for (size_t i = 0; i < k->model->networks.n; i++) {
                const pf_network *n = &k->model->networks.v[i];
                if (pf_forward_own_bridge(n->forward))
                        continue;       /* not on host links */
                const char *kind = n->bridge_name ? pf_links_kind(k, n->bridge_name) : NULL;
                if (n->bridge_name)
                        pf_link_check_exists(k, d, n->bridge_name_loc, "bridge", n->bridge_name,
                                             "forward: bridge attaches to an existing bridge; declare it as a Bridge or fix the name");
                if (kind && strcmp(kind, "bridge") != 0)
                        pf_error(d, n->bridge_name_loc, "bridge '%s' of Network %s is a %s, not a bridge; forward: bridge "
                                 "needs one (declare a Bridge), or use \"interfaces\" for macvtap devices", n->bridge_name,
                                 n->meta.name, kind);
                for (size_t x = 0; x < n->interfaces.n; x++) {
                        const char *dev = n->interfaces.v[x].name, *bridge = pf_links_port_of(k, dev);
                        pf_link_check_exists(k, d, n->interfaces.v[x].loc, "forward interface", dev,
                                             "create it, declare it, or fix the name");
                        if (bridge)
                                pf_error(d, n->interfaces.v[x].loc, "forward interface '%s' is a port of bridge %s, and "
                                         "the kernel puts no macvtap on a bridge port; use forward: bridge with "
                                         "bridge.name %s instead", dev, bridge, bridge);
                }
        }
}

const pf_kind_ops pf_pool_kind = {
        .rkind = PF_R_POOL, .model_kind = PF_KIND_STORAGE_POOL, .order = PF_ORDER_INDEPENDENT, .flags = PF_KIND_LIBVIRT,
        .apply = lv_apply,
};
const pf_kind_ops pf_volume_kind = {
        .rkind = PF_R_VOLUME, .model_kind = PF_KIND_VIRTUAL_MACHINE, .order = PF_ORDER_IN_POOL, .flags = PF_KIND_LIBVIRT,
        .apply = lv_apply,
};
const pf_kind_ops pf_network_kind = {
        .rkind = PF_R_NETWORK, .model_kind = PF_KIND_NETWORK, .order = PF_ORDER_NEEDS_LINKS, .flags = PF_KIND_LIBVIRT,
        .check = network_check, .apply = lv_apply,
};
const pf_kind_ops pf_domain_kind = {
        .rkind = PF_R_DOMAIN, .model_kind = PF_KIND_VIRTUAL_MACHINE, .order = PF_ORDER_NEEDS_ALL, .flags = PF_KIND_LIBVIRT,
        .apply = lv_apply,
};
