/* render_domain.c: a VM's libvirt domain document (render.h): its MACs, stable and unique
 * across the configuration, its disks, its interfaces as the attachment rules placed them, and
 * podform's metadata. */
#include "config.h"
#include "libvirt/render.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/values.h"
#include "engine/obj.h"
#include "libvirt/fields.h"
#include "libvirt/render_xml.h"
#include "model/names.h"
#include "resolve/masq.h"
#include "util/hash.h"
#include "util/xalloc.h"
#include "util/suggest.h"

void pf_derive_mac(const char *host, const char *vm, const char *iface, unsigned attempt, pf_mac *ret) {
        host = host ? host : "";
        vm = vm ? vm : "";
        iface = iface ? iface : "";
        uint64_t h = PF_FNV_OFFSET;
        h = pf_fnv1a(h, host, strlen(host) + 1);
        h = pf_fnv1a(h, vm, strlen(vm) + 1);
        h = pf_fnv1a(h, iface, strlen(iface) + 1);
        if (attempt > 0) {
                char buf[16];
                int n = snprintf(buf, sizeof(buf), "%u", attempt);
                h = pf_fnv1a(h, buf, (size_t) n);
        }
        *ret = (pf_mac) { { 0x52, 0x54, 0x00, (uint8_t) (h >> 56), (uint8_t) (h >> 48), (uint8_t) (h >> 40) } };
}

/* ---- the MAC table ---- */

struct pf_renderer {
        const pf_render_env *env;
        /* VM i of env->model has its interfaces' MACs at macs[first[i]] onwards. */
        pf_mac *macs;
        size_t *first;
        size_t n_vms;
        /* Every MAC taken, as a 48-bit number; open addressing, 0 = empty (no valid MAC is 0). */
        uint64_t *used;
        size_t used_cap, used_n;
};

static uint64_t mac_key(const pf_mac *m) {
        uint64_t k = 0;
        for (int i = 0; i < 6; i++)
                k = k << 8 | m->b[i];
        return k;
}

static size_t slot_of(uint64_t k, size_t cap) {
        return (size_t) ((k * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);
}

static bool used_has(const pf_renderer *r, const pf_mac *m) {
        uint64_t k = mac_key(m);
        for (size_t s = slot_of(k, r->used_cap);; s = (s + 1) & (r->used_cap - 1)) {
                if (r->used[s] == k)
                        return true;
                if (!r->used[s])
                        return false;
        }
}

static void used_insert_key(uint64_t *tab, size_t cap, uint64_t k) {
        size_t s = slot_of(k, cap);
        while (tab[s] && tab[s] != k)
                s = (s + 1) & (cap - 1);
        tab[s] = k;
}

static void used_add(pf_renderer *r, const pf_mac *m) {
        uint64_t k = mac_key(m);
        if (!k || used_has(r, m))
                return;
        if (2 * (r->used_n + 1) > r->used_cap) {
                size_t cap = r->used_cap * 2;
                uint64_t *tab = pf_xcalloc(cap, sizeof(*tab));
                for (size_t i = 0; i < r->used_cap; i++)
                        if (r->used[i])
                                used_insert_key(tab, cap, r->used[i]);
                free(r->used);
                r->used = tab;
                r->used_cap = cap;
        }
        used_insert_key(r->used, r->used_cap, k);
        r->used_n++;
}

/* Explicit, else live: the MACs that are fixed. false: it must be derived. */
static bool fixed_mac(const pf_render_env *env, const pf_vm *vm, const pf_iface *i, pf_mac *ret) {
        if (pf_loc_set(i->mac_address_loc)) {
                *ret = i->mac_address;
                return true;
        }
        /* on a Macvtap resource: its MAC, the only one its frames reach the guest with */
        const pf_macvlan *t = env->model ? pf_iface_macvtap(env->model, vm, i) : NULL;
        if (t && pf_loc_set(t->mac_address_loc)) {
                *ret = t->mac_address;
                return true;
        }
        if (env->live_mac && vm->meta.name && i->name) {
                const char *s = env->live_mac(env->ud, vm->meta.name, i->name);
                if (s && !pf_parse_mac(s, ret))
                        return true;
        }
        return false;
}

static void derive_free_mac(pf_renderer *r, const pf_vm *vm, const pf_iface *i, pf_mac *ret) {
        for (unsigned attempt = 0;; attempt++) {
                pf_derive_mac(r->env->host_name, vm->meta.name, i->name, attempt, ret);
                if (!used_has(r, ret))
                        break;
        }
        used_add(r, ret);
}

pf_renderer *pf_renderer_new(const pf_render_env *env) {
        pf_renderer *r = pf_xcalloc(1, sizeof(*r));
        r->env = env;
        const pf_model *m = env->model;
        size_t n_vms = m ? m->vms.n : 0, n_ifaces = 0;
        for (size_t v = 0; v < n_vms; v++)
                n_ifaces += m->vms.v[v].interfaces.n;
        r->n_vms = n_vms;
        r->first = pf_xcalloc(n_vms + 1, sizeof(*r->first));
        r->macs = pf_xcalloc(n_ifaces + 1, sizeof(*r->macs));
        r->used_cap = 64;
        while (r->used_cap < 2 * (n_ifaces + 16))
                r->used_cap *= 2;
        r->used = pf_xcalloc(r->used_cap, sizeof(*r->used));
        if (!m)
                return r;

        /* First every fixed MAC, links' too, so that no derived MAC can take one of them
         * whatever the order of the documents. */
        for (size_t x = 0; x < m->bridges.n; x++)
                if (pf_loc_set(m->bridges.v[x].mac_address_loc))
                        used_add(r, &m->bridges.v[x].mac_address);
        for (size_t x = 0; x < m->macvtaps.n; x++)
                if (pf_loc_set(m->macvtaps.v[x].mac_address_loc))
                        used_add(r, &m->macvtaps.v[x].mac_address);
        for (size_t x = 0; x < m->macvlans.n; x++)
                if (pf_loc_set(m->macvlans.v[x].mac_address_loc))
                        used_add(r, &m->macvlans.v[x].mac_address);
        bool *pending = pf_xcalloc(n_ifaces + 1, sizeof(*pending));
        size_t k = 0;
        for (size_t v = 0; v < n_vms; v++) {
                const pf_vm *vm = &m->vms.v[v];
                r->first[v] = k;
                for (size_t j = 0; j < vm->interfaces.n; j++, k++) {
                        if (fixed_mac(env, vm, &vm->interfaces.v[j], &r->macs[k]))
                                used_add(r, &r->macs[k]);
                        else
                                pending[k] = true;
                }
        }
        r->first[n_vms] = k;
        k = 0;
        for (size_t v = 0; v < n_vms; v++) {
                const pf_vm *vm = &m->vms.v[v];
                for (size_t j = 0; j < vm->interfaces.n; j++, k++)
                        if (pending[k])
                                derive_free_mac(r, vm, &vm->interfaces.v[j], &r->macs[k]);
        }
        free(pending);
        return r;
}

void pf_renderer_free(pf_renderer *r) {
        if (!r)
                return;
        free(r->macs);
        free(r->first);
        free(r->used);
        free(r);
}

/* The MACs of vm's interfaces. A VM from outside env->model (not expected) gets them assigned
 * now, into *owned, which the caller frees. */
static const pf_mac *vm_macs(pf_renderer *r, const pf_vm *vm, pf_mac **owned) {
        const pf_model *m = r->env->model;
        *owned = NULL;
        if (m && vm >= m->vms.v && vm < m->vms.v + r->n_vms)
                return &r->macs[r->first[vm - m->vms.v]];
        pf_mac *macs = pf_xcalloc(vm->interfaces.n + 1, sizeof(*macs));
        for (size_t j = 0; j < vm->interfaces.n; j++) {
                if (fixed_mac(r->env, vm, &vm->interfaces.v[j], &macs[j]))
                        used_add(r, &macs[j]);
                else
                        derive_free_mac(r, vm, &vm->interfaces.v[j], &macs[j]);
        }
        return *owned = macs;
}

/* ---- domains ---- */

typedef struct rctx {
        pf_renderer *r;
        const pf_vm *vm;
        pf_diags *d;
        unsigned n_errors;
} rctx;

__attribute__((format(printf, 3, 4)))
static void fail(rctx *c, pf_loc loc, const char *fmt, ...) {
        c->n_errors++;
        if (!c->d)
                return;
        va_list ap;
        va_start(ap, fmt);
        pf_diag_vadd(c->d, PF_ERROR, loc, fmt, ap);
        va_end(ap);
}

/* libvirt's spelling of a macvlan mode: "passthru" is "passthrough" there. */
static const char *direct_mode(pf_macvlan_mode m) {
        return m == PF_MACVLAN_PASSTHRU ? "passthrough" : pf_enum_name(&pf_macvlan_mode_enum, m);
}

/* vda, ..., vdz, vdaa, ...: libvirt's name of the idx-th disk (from 0) of a bus's prefix. */
static void disk_dev(char *buf, size_t size, const char *prefix, size_t idx) {
        char letters[16];
        size_t n = 0;
        for (;;) {
                letters[n++] = (char) ('a' + idx % 26);
                if (idx < 26 || n == sizeof(letters))
                        break;
                idx = idx / 26 - 1;
        }
        size_t p = (size_t) snprintf(buf, size, "%s", prefix);
        while (n && p + 1 < size)
                buf[p++] = letters[--n];
        buf[p] = '\0';
}

void pf_disk_next_name(pf_disk_namer *n, pf_disk_bus bus, const char *vm,
                       bool (*taken)(void *ud, const char *vm, const char *dev), void *ud, char *buf, size_t size) {
        bool sd = bus == PF_BUS_SATA || bus == PF_BUS_SCSI, hd = bus == PF_BUS_IDE;
        size_t *next = &n->next[sd ? 1 : hd ? 2 : 0];   /* sata and scsi share the sd* names */
        do
                disk_dev(buf, size, sd ? "sd" : hd ? "hd" : "vd", (*next)++);
        while (taken && taken(ud, vm, buf));
}

static void render_disks(rctx *c, xmlNodePtr devices) {
        const pf_vm *vm = c->vm;
        pf_disk_namer namer = { 0 };
        for (size_t x = 0; x < vm->disks.n; x++) {
                const pf_disk *disk = &vm->disks.v[x];
                const char *name = disk->name ? disk->name : "?";
                if (disk->size == 0 && !pf_loc_set(disk->size_loc)) {
                        fail(c, disk->loc, "disk '%s' is backed by a KubeVirt volume; podform creates only sized disks in this release (give it a size)",
                             name);
                        continue;
                }
                xmlNodePtr e = child(devices, "disk");
                prop(e, "type", "volume");
                prop(e, "device", "disk");
                xmlNodePtr drv = child(e, "driver");
                prop(drv, "name", "qemu");
                prop(drv, "type", pf_enum_name(&pf_disk_format_enum, disk->format));
                xmlNodePtr src = child(e, "source");
                prop(src, "pool", pf_disk_pool(c->r->env, disk));
                char *vol = pf_xasprintf("%s-%s", vm->meta.name ? vm->meta.name : "?", name);
                prop(src, "volume", vol);
                free(vol);
                char dev[32];
                pf_disk_next_name(&namer, disk->bus, vm->meta.name, c->r->env->dev_taken, c->r->env->ud, dev, sizeof(dev));
                xmlNodePtr tgt = child(e, "target");
                prop(tgt, "dev", dev);
                prop(tgt, "bus", pf_enum_name(&pf_disk_bus_enum, disk->bus));
                if (pf_loc_set(disk->boot_order_loc))
                        prop_u(child(e, "boot"), "order", disk->boot_order);
        }
}

static const pf_vm_net *net_of(const pf_vm *vm, const char *name) {
        for (size_t x = 0; x < vm->networks.n; x++)
                if (name && vm->networks.v[x].name && !strcmp(vm->networks.v[x].name, name))
                        return &vm->networks.v[x];
        return NULL;
}

/* A VM on a host link that neither exists nor is declared could never start, nor can libvirt
 * put a tap on a link that is no bridge: plan errors. */
static bool link_known(rctx *c, const char *ifname, pf_loc at, const char *network, bool bridge) {
        const pf_render_env *env = c->r->env;
        const char *kind = env->links.kind ? env->links.kind(env->links.ud, ifname) : "bridge";
        if (!kind) {
                const char *near = env->links.near ? env->links.near(env->links.ud, ifname) : NULL;
                fail(c, at, "network '%s' attaches to host link '%s', which is neither on this host nor declared as a "
                     PF_LINK_KINDS_TEXT "; create the link, declare it, or fix the name" PF_HINT_FMT, network ? network : "?",
                     ifname, PF_HINT(near));
                return false;
        }
        if (bridge && strcmp(kind, "bridge") != 0) {
                fail(c, at, "network '%s' attaches with the bridge binding to host link '%s', which is a %s, not a bridge; "
                     "use the macvtap binding, or a Bridge", network ? network : "?", ifname, kind);
                return false;
        }
        return true;
}

/* multus/genie networkName: a libvirt Network (declared for this VM's host, or live), else a
 * bridge of that name. */
static bool is_libvirt_network(const rctx *c, const char *name) {
        const pf_model *m = c->r->env->model;
        for (size_t x = 0; m && x < m->networks.n; x++) {
                const pf_network *n = &m->networks.v[x];
                if (n->meta.name && !strcmp(n->meta.name, name) && pf_meta_compatible(&n->meta, &c->vm->meta))
                        return true;
        }
        return c->r->env->live_network && c->r->env->live_network(c->r->env->ud, name);
}

static xmlNodePtr new_iface(xmlNodePtr devices, const char *type) {
        xmlNodePtr e = child(devices, "interface");
        prop(e, "type", type);
        return e;
}

static xmlNodePtr source_attr(xmlNodePtr iface, const char *name, const char *value) {
        xmlNodePtr src = child(iface, "source");
        prop(src, name, value);
        return src;
}

/* An interface the attachment rules placed (resolve/attach.h). The resolver reported the
 * ones it could not place. */
static xmlNodePtr placed_iface(rctx *c, xmlNodePtr devices, const pf_iface *i, const pf_vm_net *n) {
        const pf_render_env *env = c->r->env;
        const pf_attachment *x = pf_attach_find(env->attach, c->vm, i);
        if (!x) {
                if (env->attach && env->attach->n_errors)
                        c->n_errors++;          /* the rules said why */
                else if (env->attach)
                        fail(c, pf_loc_set(n->backend_loc) ? n->backend_loc : c->vm->meta.name_loc,
                             "interface '%s': internal error: the attachment rules placed it nowhere and said "
                             "nothing; please report it", i->name ? i->name : "?");
                else
                        fail(c, pf_loc_set(n->backend_loc) ? n->backend_loc : c->vm->meta.name_loc,
                             "interface '%s' is placed by the attachment rules (see " PF_MAN_RESOLUTION "), which were not run", i->name ? i->name : "?");
                return NULL;
        }
        xmlNodePtr e;
        switch (x->target) {
        case PF_TARGET_NETWORK:
                e = new_iface(devices, "network");
                source_attr(e, "network", x->source);
                return e;
        case PF_TARGET_BRIDGE:
                e = new_iface(devices, "bridge");
                source_attr(e, "bridge", x->source);
                return e;
        case PF_TARGET_DIRECT:
                e = new_iface(devices, "direct");
                prop(source_attr(e, "dev", x->source), "mode", direct_mode(x->mode));
                return e;
        case PF_TARGET_USER:
                break;          /* the binding renders it (iface_element); never placed here */
        }
        fail(c, c->vm->meta.name_loc, "interface '%s': internal error: a user-networking attachment to place",
             i->name ? i->name : "?");
        return NULL;
}

/* A binding that does not fit the network's backend: validation refuses every such pairing,
 * so this only guards against a model it did not see. */
#define UNPAIRED ((xmlNodePtr) &unpaired_marker)
static const char unpaired_marker;

/* The pod network's user-mode bindings: slirp, and masquerade (passt). */
static xmlNodePtr slirp_iface(rctx *c, xmlNodePtr devices, const pf_iface *i) {
        if (i->ports.n) {
                fail(c, i->ports_loc, "libvirt cannot forward ports on a slirp interface; use the masquerade binding for port forwarding");
                return NULL;
        }
        return new_iface(devices, "user");
}

/* Without passt, a NIC on podform's NAT network (resolve/masq.h): one range for the host's VMs,
 * so a VM's own vmNetworkCIDR must be that one. */
static xmlNodePtr masquerade_iface(rctx *c, xmlNodePtr devices, const pf_iface *i, const pf_vm_net *n) {
        const pf_render_env *env = c->r->env;
        if (pf_render_masq_nat(env)) {
                const pf_cidr *host = &env->host->vm_network_cidr, *own = &n->pod_vm_network_cidr;
                if (pf_loc_set(n->pod_vm_network_cidr_loc) &&
                    (own->prefix != host->prefix || memcmp(&own->ip, &host->ip, sizeof(own->ip)))) {
                        char a[64], b[64];
                        fail(c, n->pod_vm_network_cidr_loc, "vmNetworkCIDR %s: this host's masquerade interfaces share "
                             "podform's NAT network %s, whose range is the Host's vmNetworkCIDR %s; set that one in "
                             "the Host document, or drop this one", pf_cidr_format(own, a), PF_MASQ_NETWORK,
                             pf_cidr_format(host, b));
                        return NULL;
                }
                xmlNodePtr e = new_iface(devices, "network");
                source_attr(e, "network", PF_MASQ_NETWORK);
                return e;
        }
        xmlNodePtr e = new_iface(devices, "user");
        prop(child(e, "backend"), "type", "passt");
        for (size_t x = 0; x < i->ports.n; x++) {
                xmlNodePtr pf = child(e, "portForward");
                prop(pf, "proto", i->ports.v[x].protocol == PF_PROTO_UDP ? "udp" : "tcp");
                prop_u(child(pf, "range"), "start", i->ports.v[x].port);
        }
        return e;
}

/* A Macvtap resource: an unmanaged device the VM opens by name. */
static xmlNodePtr ethernet_iface(xmlNodePtr devices, const pf_vm_net *n) {
        xmlNodePtr e = new_iface(devices, "ethernet");
        xmlNodePtr tgt = child(e, "target");
        prop(tgt, "dev", n->macvtap);
        prop(tgt, "managed", "no");
        return e;
}

static xmlNodePtr source_iface(xmlNodePtr devices, const char *type, const char *attr, const char *value) {
        xmlNodePtr e = new_iface(devices, type);
        source_attr(e, attr, value);
        return e;
}

static xmlNodePtr bridge_binding(rctx *c, xmlNodePtr devices, const pf_vm_net *n) {
        switch (n->backend) {
        case PF_BACKEND_NETWORK:
                return source_iface(devices, "network", "network", n->network);
        case PF_BACKEND_HOST:
                if (!n->host_interface)
                        return UNPAIRED;
                if (!link_known(c, n->host_interface, n->host_interface_loc, n->name, true))
                        return NULL;
                return source_iface(devices, "bridge", "bridge", n->host_interface);
        case PF_BACKEND_MULTUS:
        case PF_BACKEND_GENIE:
                if (!n->network_name)
                        return UNPAIRED;
                if (is_libvirt_network(c, n->network_name))
                        return source_iface(devices, "network", "network", n->network_name);
                if (!link_known(c, n->network_name, n->network_name_loc, n->name, true))
                        return NULL;
                return source_iface(devices, "bridge", "bridge", n->network_name);
        case PF_BACKEND_MACVTAP:
                return ethernet_iface(devices, n);
        default:
                return UNPAIRED;
        }
}

static xmlNodePtr macvtap_binding(rctx *c, xmlNodePtr devices, const pf_iface *i, const pf_vm_net *n) {
        const pf_render_env *env = c->r->env;
        if (n->backend == PF_BACKEND_MACVTAP)
                return ethernet_iface(devices, n);
        if (n->backend != PF_BACKEND_HOST || !n->host_interface)
                return UNPAIRED;
        if (!link_known(c, n->host_interface, n->host_interface_loc, n->name, false))
                return NULL;
        const char *bridge = env->links.port_of ? env->links.port_of(env->links.ud, n->host_interface) : NULL;
        if (bridge) {
                fail(c, n->host_interface_loc, "network '%s' puts a macvtap on '%s', a port of bridge %s, "
                     "and the kernel puts no macvtap on a bridge port; use host: {interface: %s}",
                     n->name ? n->name : "?", n->host_interface, bridge, bridge);
                return NULL;
        }
        xmlNodePtr e = new_iface(devices, "direct");
        xmlNodePtr src = source_attr(e, "dev", n->host_interface);
        prop(src, "mode", direct_mode(pf_loc_set(i->macvtap_mode_loc) ? i->macvtap_mode : env->host->default_macvlan_mode));
        return e;
}

static xmlNodePtr sriov_binding(rctx *c, xmlNodePtr devices, const pf_vm_net *n) {
        const pf_render_env *env = c->r->env;
        if (n->backend == PF_BACKEND_MULTUS || n->backend == PF_BACKEND_GENIE) {
                fail(c, n->backend_loc,
                     "sriov on a %s network is resolved in a later release; give network '%s' host: {pci: ...} or host: {interface: ...}",
                     pf_enum_name(&pf_backend_enum, n->backend), n->name ? n->name : "?");
                return NULL;
        }
        if (n->backend != PF_BACKEND_HOST)
                return UNPAIRED;
        pf_pci pci = n->host_pci;
        if (!pf_loc_set(n->host_pci_loc) &&
            (!env->host_pci || !n->host_interface || !env->host_pci(env->ud, n->host_interface, &pci))) {
                fail(c, n->host_interface_loc,
                     "host interface '%s' is not a PCI network device on this host; sriov needs one (give host: {pci: ...})",
                     n->host_interface ? n->host_interface : "?");
                return NULL;
        }
        xmlNodePtr e = new_iface(devices, "hostdev");
        prop(e, "managed", "yes");
        pci_address(child(e, "source"), &pci);
        return e;
}

/* The <interface> of one NIC, or NULL after an error. */
static xmlNodePtr iface_element(rctx *c, xmlNodePtr devices, const pf_iface *i, const pf_vm_net *n) {
        bool pod = pf_net_is_pod(n);
        if (n->backend == PF_BACKEND_CONSTRAINTS || (pod && (i->binding == PF_BINDING_BRIDGE || i->binding == PF_BINDING_NONE)))
                return placed_iface(c, devices, i, n);
        if (pod && i->binding == PF_BINDING_SLIRP)
                return slirp_iface(c, devices, i);
        if (pod && i->binding == PF_BINDING_MASQUERADE)
                return masquerade_iface(c, devices, i, n);
        xmlNodePtr e = i->binding == PF_BINDING_BRIDGE    ? bridge_binding(c, devices, n)
                       : i->binding == PF_BINDING_MACVTAP ? macvtap_binding(c, devices, i, n)
                       : i->binding == PF_BINDING_SRIOV   ? sriov_binding(c, devices, n)
                                                          : UNPAIRED;
        if (e != UNPAIRED)
                return e;
        fail(c, pf_loc_set(i->binding_loc) ? i->binding_loc : i->loc,
             "interface '%s': the %s binding cannot be used with a %s network", i->name ? i->name : "?",
             pf_enum_name(&pf_binding_enum, i->binding), pf_enum_name(&pf_backend_enum, n->backend));
        return NULL;
}

static void render_interfaces(rctx *c, xmlNodePtr devices, const pf_mac *macs) {
        const pf_vm *vm = c->vm;
        unsigned vcpus = pf_vm_vcpus(vm);
        for (size_t x = 0; x < vm->interfaces.n; x++) {
                const pf_iface *i = &vm->interfaces.v[x];
                const char *name = i->name ? i->name : "?";
                /* DHCP boot options (podform.yaml(5)) are served by the Network (pf_render_network_bootp). */
                const pf_vm_net *n = net_of(vm, i->name);
                if (!n) {
                        fail(c, pf_loc_set(i->name_loc) ? i->name_loc : vm->meta.name_loc,
                             "interface '%s' has no network of the same name", name);
                        continue;
                }
                xmlNodePtr e = iface_element(c, devices, i, n);
                if (!e)
                        continue;
                const xmlChar *type = xmlGetProp(e, BAD_CAST "type");
                bool hostdev = !xmlStrcmp(type, BAD_CAST "hostdev");
                bool tap = !xmlStrcmp(type, BAD_CAST "network") || !xmlStrcmp(type, BAD_CAST "bridge") ||
                           !xmlStrcmp(type, BAD_CAST "direct") || !xmlStrcmp(type, BAD_CAST "ethernet");
                xmlFree((void *) type);
                prop_mac(child(e, "mac"), "address", &macs[x]);
                if (pf_net_is_pod(n) && i->binding == PF_BINDING_MASQUERADE && pf_render_masq_nat(c->r->env) &&
                    c->r->env->masq_nic)
                        c->r->env->masq_nic(c->r->env->ud, vm, i, &macs[x]);
                if (!hostdev)
                        prop(child(e, "model"), "type", pf_enum_name(&pf_nic_model_enum, i->model));
                /* Multiqueue: one queue per vCPU, for tap-backed virtio NICs only. */
                if (vm->multiqueue && i->model == PF_MODEL_VIRTIO && vcpus > 1 && tap)
                        prop_u(child(e, "driver"), "queues", vcpus);
                if (pf_loc_set(i->pci_address_loc))
                        pci_address(e, &i->pci_address);
                if (pf_loc_set(i->boot_order_loc))
                        prop_u(child(e, "boot"), "order", i->boot_order);
        }
}

/* The podform metadata, after <name>; its hash attribute holds HASH_PLACEHOLDER until the
 * document's text is known. Returns the element holding the hash. */
#define HASH_PLACEHOLDER "0000000000000000"
static xmlNodePtr render_metadata(rctx *c, xmlNodePtr name_node, const pf_mac *macs) {
        const pf_vm *vm = c->vm;
        xmlNodePtr md = xml_check(xmlNewDocNode(name_node->doc, NULL, BAD_CAST "metadata", NULL));
        xml_check(xmlAddNextSibling(name_node, md));
        xmlNodePtr pvm = child(md, "vm");
        xmlNsPtr ns = xml_check(xmlNewNs(pvm, BAD_CAST PF_XMLNS, BAD_CAST PF_XMLNS_PREFIX));
        xmlSetNs(pvm, ns);
        /* the name it was created under: a copy (virt-clone copies metadata) is not podform's */
        prop(pvm, "name", vm->meta.name);
        prop(pvm, "config", vm->meta.loc.src && vm->meta.loc.src->path ? vm->meta.loc.src->path : "");
        prop(pvm, "hash", HASH_PLACEHOLDER);
        for (size_t x = 0; x < vm->interfaces.n; x++) {
                xmlNodePtr e = xml_check(xmlNewChild(pvm, ns, BAD_CAST "interface", NULL));
                prop(e, "name", vm->interfaces.v[x].name);
                prop_mac(e, "mac", &macs[x]);
                const pf_attachment *at = pf_attach_find(c->r->env->attach, vm, &vm->interfaces.v[x]);
                if (at && at->has_ip)
                        prop_ip(e, "ip", &at->ip);
        }
        for (size_t x = 0; x < vm->disks.n; x++) {
                const pf_disk *disk = &vm->disks.v[x];
                xmlNodePtr e = xml_check(xmlNewChild(pvm, ns, BAD_CAST "disk", NULL));
                prop(e, "name", disk->name);
                prop(e, "pool", pf_disk_pool(c->r->env, disk));
                char *vol = pf_xasprintf("%s-%s", vm->meta.name ? vm->meta.name : "?", disk->name ? disk->name : "?");
                prop(e, "volume", vol);
                free(vol);
        }
        return pvm;
}

/* The document's text, serialized once: the hash covers the desired state, that is the text
 * without the <metadata> element holding it (as the document serializes without it), and
 * replaces the placeholder in the text and in the document. */
static char *hashed_text(xmlDocPtr doc, xmlNodePtr pvm) {
        char *text = pf_xml_dump(doc);
        static const char open[] = "\n  <metadata>", close[] = "</metadata>", attr[] = "hash=\"" HASH_PLACEHOLDER "\"";
        /* <metadata> is the element after <name>, and no text before it holds '<' unescaped */
        char *start = strstr(text, open), *end = start ? strstr(start, close) : NULL;
        char *at = end ? strstr(start, attr) : NULL;
        if (!at || at > end)
                abort();        /* the serializer wrote what it never writes */
        end += strlen(close);
        uint64_t hash = pf_fnv1a(PF_FNV_OFFSET, text, (size_t) (start - text));
        hash = pf_fnv1a(hash, end, strlen(end));
        char buf[24];
        snprintf(buf, sizeof(buf), "%016llx", (unsigned long long) hash);
        memcpy(at + strlen("hash=\""), buf, 16);
        xml_check(xmlSetProp(pvm, BAD_CAST "hash", BAD_CAST buf));
        return text;
}

xmlDocPtr pf_render_domain(pf_renderer *r, const pf_vm *vm, pf_diags *d) {
        char *text = NULL;
        xmlDocPtr doc = pf_render_domain_text(r, vm, d, &text);
        free(text);
        return doc;
}

xmlDocPtr pf_render_domain_text(pf_renderer *r, const pf_vm *vm, pf_diags *d, char **xml) {
        rctx c = { .r = r, .vm = vm, .d = d };
        pf_mac *owned = NULL;
        const pf_mac *macs = vm_macs(r, vm, &owned);
        xmlNodePtr root;
        xmlDocPtr doc = new_doc("domain", &root);
        pf_domain_type dtype = pf_loc_set(vm->type_loc) || !r->env->domain_type ? vm->type
                                                                              : r->env->domain_type(r->env->ud, vm);
        prop(root, "type", pf_enum_name(&pf_domain_type_enum, dtype));
        xmlNodePtr name_node = text_child(root, "name", vm->meta.name);

        /* memory is in bytes; KiB rounded up so that a VM never gets less than asked */
        char buf[24];
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) (vm->memory / 1024 + (vm->memory % 1024 != 0)));
        prop(text_child(root, "memory", buf), "unit", "KiB");
        snprintf(buf, sizeof(buf), "%u", pf_vm_vcpus(vm));
        text_child(root, "vcpu", buf);

        xmlNodePtr os = child(root, "os");
        xmlNodePtr type = text_child(os, "type", "hvm");
        prop(type, "arch", vm->arch);
        if (pf_loc_set(vm->machine_loc) && vm->machine)
                prop(type, "machine", vm->machine);
        /* libvirt refuses <os><boot> together with per-device <boot order>. */
        bool device_boot = false;
        for (size_t x = 0; x < vm->disks.n; x++)
                device_boot |= pf_loc_set(vm->disks.v[x].boot_order_loc);
        for (size_t x = 0; x < vm->interfaces.n; x++)
                device_boot |= pf_loc_set(vm->interfaces.v[x].boot_order_loc);
        if (!device_boot)
                for (size_t x = 0; x < vm->boot.n; x++)
                        prop(child(os, "boot"), "dev", pf_enum_name(&pf_boot_dev_enum, vm->boot.v[x].dev));

        xmlNodePtr features = child(root, "features");
        child(features, "acpi");        /* so that ACPI shutdown works */
        child(features, "apic");
        if (pf_loc_set(vm->sockets_loc) || pf_loc_set(vm->threads_loc)) {
                xmlNodePtr topo = child(child(root, "cpu"), "topology");
                prop_u(topo, "sockets", vm->sockets);
                prop(topo, "dies", "1");
                prop_u(topo, "cores", vm->cores);
                prop_u(topo, "threads", vm->threads);
        }

        xmlNodePtr devices = child(root, "devices");
        render_disks(&c, devices);
        render_interfaces(&c, devices, macs);
        xmlNodePtr serial = child(devices, "serial");
        prop(serial, "type", "pty");
        prop_u(child(serial, "target"), "port", 0);
        /* KubeVirt's logSerialConsole: the pty stays (virsh console) and QEMU also writes what the
         * guest prints to a file, rewritten at each start, so a boot can be read after the fact. */
        if (vm->log_serial_console) {
                char *log = pf_lv_serial_log_path(vm->meta.name);
                xmlNodePtr l = child(serial, "log");
                prop(l, "file", log);
                prop(l, "append", "off");
                free(log);
        }
        xmlNodePtr console = child(devices, "console");
        prop(console, "type", "pty");
        xmlNodePtr ctgt = child(console, "target");
        prop(ctgt, "type", "serial");
        prop_u(ctgt, "port", 0);

        if (c.n_errors) {
                xmlFreeDoc(doc);
                free(owned);
                return NULL;
        }
        *xml = hashed_text(doc, render_metadata(&c, name_node, macs));
        free(owned);
        return doc;
}
