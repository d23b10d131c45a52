/* validate_vm.c: the rules of VirtualMachines (KubeVirt's pairing of interfaces and networks,
 * bindings, boot order, disks and volumes) and those across VMs (MACs, Macvtaps, constraints). */
#include "config.h"
#include "config/checks.h"

#include <stdlib.h>
#include <string.h>

#include "config/validate.h"
#include "config/values.h"
#include "model/names.h"
#include "util/suggest.h"
#include "util/xalloc.h"

/* ---- VirtualMachine ---- */

static const pf_vm_net *find_net(const pf_vm *vm, const char *name) {
        EACH(n, vm->networks) if (n->name && !strcmp(n->name, name)) return n;
        return NULL;
}

static const pf_iface *find_iface(const pf_vm *vm, const char *name) {
        EACH(i, vm->interfaces) if (i->name && !strcmp(i->name, name)) return i;
        return NULL;
}

/* Where an implicit interface (autoattachPodInterface) is reported: the VM's name. */
static pf_loc iface_loc(const pf_vm *vm, const pf_iface *i) {
        return pf_loc_set(i->name_loc) ? i->name_loc : vm->meta.name_loc;
}

/* A network backend as a message names it. */
static const char *backend_phrase(const pf_vm_net *n) {
        switch (n->backend) {
        case PF_BACKEND_POD: return "the pod network";
        case PF_BACKEND_MULTUS: return n->multus_default ? "the pod network" : "a multus network";
        case PF_BACKEND_GENIE: return "a genie network";
        case PF_BACKEND_NETWORK: return "a libvirt Network";
        case PF_BACKEND_HOST: return "a host network";
        case PF_BACKEND_CONSTRAINTS: return "a constraints network";
        case PF_BACKEND_MACVTAP: return "a Macvtap";
        default: return "no network";
        }
}

static void check_binding(pf_diags *diags, const pf_model *m, const pf_vm *vm, const pf_iface *i, const pf_vm_net *n) {
        const char *bind = pf_binding_enum.names[i->binding];
        const char *be = backend_phrase(n);
        pf_loc at = pf_loc_set(i->binding_loc) ? i->binding_loc : iface_loc(vm, i);
        char a[PF_QUOTE_MAX], b[PF_QUOTE_MAX], w[512];
        switch (i->binding) {
        case PF_BINDING_MASQUERADE:
        case PF_BINDING_SLIRP:
                if (!pf_net_is_pod(n))
                        pf_error(diags, at, "%s is only allowed on the pod network, but network %s is %s",
                                 bind, q(a, n->name), be);
                break;
        case PF_BINDING_MACVTAP:
                if (n->backend != PF_BACKEND_HOST && n->backend != PF_BACKEND_MACVTAP && n->backend != PF_BACKEND_CONSTRAINTS)
                        pf_error(diags, at, "the macvtap binding needs a host interface, a Macvtap resource or constraints, not %s", be);
                else if (n->backend == PF_BACKEND_HOST && pf_loc_set(n->host_pci_loc))
                        pf_error(diags, at, "the macvtap binding needs host.interface; a PCI device is used with sriov");
                break;
        case PF_BINDING_SRIOV:
                if (n->backend != PF_BACKEND_HOST && n->backend != PF_BACKEND_MULTUS && n->backend != PF_BACKEND_GENIE)
                        pf_error(diags, at, "sriov needs a host network naming a PCI device (host: {pci: ...}), not %s", be);
                else if (pf_net_is_pod(n))
                        pf_error(diags, at, "sriov cannot be used on the pod network");
                break;
        case PF_BINDING_BRIDGE:
                if (n->backend == PF_BACKEND_HOST && pf_loc_set(n->host_pci_loc))
                        pf_error(diags, at, "a PCI device can only be passed through with the sriov binding");
                if (pf_net_is_pod(n))
                        EACH(h, m->hosts)
                                if (!h->permit_bridge_on_pod_network && (!vm->meta.host || (h->meta.name && !strcmp(vm->meta.host, h->meta.name))))
                                        pf_error(diags, at, "the bridge binding on the pod network is forbidden by permitBridgeOnPodNetwork: false of Host %s at %s; use masquerade",
                                                 q(b, h->meta.name ? h->meta.name : "?"), where(h->permit_bridge_on_pod_network_loc, w, sizeof(w)));
                break;
        default:
                break;
        }
        if (i->ports.n && i->binding != PF_BINDING_MASQUERADE && i->binding != PF_BINDING_SLIRP)
                pf_error(diags, i->ports_loc, "\"ports\" are only forwarded by the masquerade and slirp bindings, not by %s", bind);
        /* DHCP boot options need a DHCP server podform controls (podform.yaml(5)): a host link, a
         * Macvtap or a MAAS subnet never is one. Networks and the pod network are judged when
         * planning, once it is known what they resolve to. */
        if (n->backend == PF_BACKEND_HOST || n->backend == PF_BACKEND_MACVTAP || n->backend == PF_BACKEND_CONSTRAINTS) {
                if (pf_loc_set(i->boot_file_name_loc))
                        pf_error(diags, i->boot_file_name_loc, "bootFileName needs a podform-managed Network with DHCP; %s has no DHCP server podform controls", be);
                if (pf_loc_set(i->tftp_server_name_loc))
                        pf_error(diags, i->tftp_server_name_loc, "tftpServerName needs a podform-managed Network with DHCP; %s has no DHCP server podform controls", be);
        }
}

typedef struct boot_ref { unsigned order; pf_loc loc; const char *what, *name; } boot_ref;

static int boot_ref_cmp(const void *a, const void *b) {
        return loc_cmp(((const boot_ref *) a)->loc, ((const boot_ref *) b)->loc);
}

/* Interfaces and networks: unique names, paired both ways (KubeVirt). */
static void check_vm_interfaces(pf_diags *diags, const pf_model *m, const pf_vm *vm) {
        char a[PF_QUOTE_MAX];
        for (size_t x = 0; x < vm->interfaces.n; x++) {
                const pf_iface *i = &vm->interfaces.v[x];
                if (!i->name)
                        continue;
                for (size_t y = 0; y < x; y++)
                        if (vm->interfaces.v[y].name && !strcmp(vm->interfaces.v[y].name, i->name)) {
                                pf_error(diags, i->name_loc, "interface name %s is already used at line %u", q(a, i->name),
                                         vm->interfaces.v[y].name_loc.line);
                                break;
                        }
                const pf_vm_net *n = find_net(vm, i->name);
                if (!n)
                        pf_error(diags, iface_loc(vm, i), "interface %s has no network of the same name; add one to spec.networks",
                                 q(a, i->name));
                else if (n->backend != PF_BACKEND_NONE && i->binding != PF_BINDING_NONE)
                        check_binding(diags, m, vm, i, n);
                for (size_t y = 0; y < x; y++) {
                        const pf_iface *o = &vm->interfaces.v[y];
                        if (pf_loc_set(i->pci_address_loc) && pf_loc_set(o->pci_address_loc) &&
                            !memcmp(&i->pci_address, &o->pci_address, sizeof(pf_pci)))
                                pf_error(diags, i->pci_address_loc, "PCI address is already used by interface %s at line %u",
                                         q(a, o->name ? o->name : "?"), o->pci_address_loc.line);
                }
        }
}

static void check_vm_networks(pf_diags *diags, const pf_vm *vm) {
        char a[PF_QUOTE_MAX], b[PF_QUOTE_MAX];
        const pf_vm_net *pod = NULL;
        for (size_t x = 0; x < vm->networks.n; x++) {
                const pf_vm_net *n = &vm->networks.v[x];
                if (!n->name)
                        continue;
                for (size_t y = 0; y < x; y++)
                        if (vm->networks.v[y].name && !strcmp(vm->networks.v[y].name, n->name)) {
                                pf_error(diags, n->name_loc, "network name %s is already used at line %u", q(a, n->name),
                                         vm->networks.v[y].name_loc.line);
                                break;
                        }
                if (!find_iface(vm, n->name))
                        pf_error(diags, pf_loc_set(n->name_loc) ? n->name_loc : vm->meta.name_loc,
                                 "network %s has no interface of the same name; add one to domain.devices.interfaces",
                                 q(a, n->name));
                if (pf_net_is_pod(n)) {
                        if (pod)
                                pf_error(diags, n->backend_loc, "network %s is a second pod network (%s already is one, line %u); a VM has at most one",
                                         q(a, n->name), q(b, pod->name), pod->backend_loc.line);
                        else
                                pod = n;
                }
        }
}

/* Boot: explicit `boot` and per-device bootOrder are two ways to say the same thing. */
static void check_vm_boot(pf_diags *diags, const pf_vm *vm) {
        char a[PF_QUOTE_MAX];
        boot_ref *refs = pf_xcalloc(vm->interfaces.n + vm->disks.n + 1, sizeof(*refs));
        size_t nr = 0;
        EACH(i, vm->interfaces) if (pf_loc_set(i->boot_order_loc)) refs[nr++] = (boot_ref) { i->boot_order, i->boot_order_loc, "interface", i->name };
        EACH(d, vm->disks) if (pf_loc_set(d->boot_order_loc)) refs[nr++] = (boot_ref) { d->boot_order, d->boot_order_loc, "disk", d->name };
        qsort(refs, nr, sizeof(*refs), boot_ref_cmp);  /* report at the later one */
        for (size_t x = 0; x < nr; x++)
                for (size_t y = 0; y < x; y++)
                        if (refs[x].order == refs[y].order) {
                                pf_error(diags, refs[x].loc, "bootOrder %u is already given to %s %s at line %u; boot orders must be unique",
                                         refs[x].order, refs[y].what, q(a, refs[y].name ? refs[y].name : "?"), refs[y].loc.line);
                                break;
                        }
        if (nr && pf_loc_set(vm->boot_loc))
                pf_error(diags, vm->boot_loc, "\"boot\" cannot be combined with bootOrder (given at line %u); use one of them",
                         refs[0].loc.line);
        free(refs);
        for (size_t x = 1; x < vm->boot.n; x++)
                for (size_t y = 0; y < x; y++)
                        if (vm->boot.v[x].dev == vm->boot.v[y].dev) {
                                pf_error(diags, vm->boot.v[x].loc, "boot device \"%s\" is listed twice",
                                         pf_boot_dev_enum.names[vm->boot.v[x].dev]);
                                break;
                        }
}

/* Disks and the volumes behind size-less disks. */
static void check_vm_disks(pf_diags *diags, const pf_vm *vm) {
        char a[PF_QUOTE_MAX], b[PF_QUOTE_MAX];
        size_t sizeless = 0;
        for (size_t x = 0; x < vm->disks.n; x++) {
                const pf_disk *d = &vm->disks.v[x];
                if (!d->name)
                        continue;
                for (size_t y = 0; y < x; y++)
                        if (vm->disks.v[y].name && !strcmp(vm->disks.v[y].name, d->name)) {
                                pf_error(diags, d->name_loc, "disk name %s is already used at line %u", q(a, d->name),
                                         vm->disks.v[y].name_loc.line);
                                break;
                        }
                if (!pf_loc_set(d->size_loc))
                        sizeless++;
        }
        size_t unnamed = 0;
        EACH(v, vm->volumes) {
                if (!v->name) {
                        unnamed++;
                        continue;
                }
                bool found = false;
                EACH(d, vm->disks) if (d->name && !strcmp(d->name, v->name)) {
                        found = true;
                        if (pf_loc_set(d->size_loc))
                                pf_error(diags, d->size_loc, "disk %s is backed by volume %s and takes no size", q(a, d->name), q(b, v->name));
                }
                if (!found)
                        pf_error(diags, v->name_loc, "volume %s backs no disk; add a disk of the same name", q(a, v->name));
        }
        if (unnamed > 1) {
                size_t k = 0;
                EACH(v, vm->volumes) if (!v->name && k++ == 1)
                        pf_error(diags, v->loc, "only one volume may be left without a name; name each volume after the disk it backs");
        } else if (unnamed && sizeless != 1) {
                EACH(v, vm->volumes) if (!v->name)
                        pf_error(diags, v->loc, "a volume without a name backs the one disk without a size, but %zu disks have no size; name the volume after its disk",
                                 sizeless);
        }
        EACH(d, vm->disks) {
                if (!d->name || pf_loc_set(d->size_loc))
                        continue;
                bool backed = unnamed == 1 && sizeless == 1;
                EACH(v, vm->volumes) backed |= v->name && !strcmp(v->name, d->name);
                if (!backed)
                        pf_error(diags, d->loc, "disk %s has no size and no volume; add size: (e.g. 32Gi) or a volume named %s",
                                 q(a, d->name), q(b, d->name));
        }
}

void pf_check_vm(pf_diags *diags, const pf_model *m, const pf_vm *vm) {
        check_vm_interfaces(diags, m, vm);
        check_vm_networks(diags, vm);
        check_vm_boot(diags, vm);
        check_vm_disks(diags, vm);
}

/* ---- references and uniqueness across VMs ---- */

typedef struct mac_ref { pf_mac mac; pf_loc loc; const pf_meta *meta; } mac_ref;

static int mac_cmp(const void *a, const void *b) {
        const mac_ref *x = a, *y = b;
        int r = memcmp(&x->mac, &y->mac, sizeof(pf_mac));
        return r ? r : loc_cmp(x->loc, y->loc);
}

static void check_macs(pf_diags *diags, const pf_model *m) {
        size_t n = 0;
        EACH(vm, m->vms) n += vm->interfaces.n;
        mac_ref *v = pf_xcalloc(n + 1, sizeof(*v));
        n = 0;
        EACH(vm, m->vms) EACH(i, vm->interfaces) if (pf_loc_set(i->mac_address_loc))
                v[n++] = (mac_ref) { i->mac_address, i->mac_address_loc, &vm->meta };
        qsort(v, n, sizeof(*v), mac_cmp);
        char x[64], w[512];
        for (size_t i = 0; i < n;) {
                size_t j = i + 1;
                while (j < n && !memcmp(&v[j].mac, &v[i].mac, sizeof(pf_mac)))
                        j++;
                for (size_t b = i + 1; b < j; b++)
                        for (size_t a = i; a < b; a++)
                                if (pf_meta_compatible(v[a].meta, v[b].meta)) {
                                        pf_error(diags, v[b].loc, "macAddress %s is already used at %s; MAC addresses must be unique",
                                                 pf_mac_format(&v[b].mac, x), where(v[a].loc, w, sizeof(w)));
                                        break;
                                }
                i = j;
        }
        free(v);
}

/* A macvtap passes only frames for its own MAC: the guest's NIC must have the same one. */
static void check_macvtap_mac(pf_diags *diags, const pf_vm *vm, const pf_vm_net *n, const pf_macvlan *t) {
        const pf_iface *i = find_iface(vm, n->name ? n->name : "");
        if (!i)
                return;
        char a[PF_QUOTE_MAX], w[512], m1[64], m2[64];
        bool on_iface = pf_loc_set(i->mac_address_loc), on_link = pf_loc_set(t->mac_address_loc);
        if (on_iface && on_link && memcmp(i->mac_address.b, t->mac_address.b, 6) != 0)
                pf_error(diags, i->mac_address_loc, "interface '%s' has MAC %s but its Macvtap %s has %s (at %s); a macvtap "
                         "passes only frames for its own MAC: make them equal, or give only one (podform copies it)",
                         i->name, pf_mac_format(&i->mac_address, m1), q(a, t->meta.name), pf_mac_format(&t->mac_address, m2),
                         where(t->mac_address_loc, w, sizeof(w)));
        else if (!on_iface && !on_link)
                pf_diag_add(diags, PF_WARNING, n->macvtap_loc, "neither interface '%s' nor Macvtap %s has a macAddress, so the "
                            "kernel picks the macvtap's and podform the guest's, and the guest receives no unicast frames; "
                            "give one of them a macAddress (podform copies it to the other)", i->name ? i->name : "?",
                            q(a, t->meta.name));
}

static void check_macvtap_refs(pf_diags *diags, const pf_model *m) {
        char a[PF_QUOTE_MAX], w[512];
        const char **names = pf_xcalloc(m->macvtaps.n + 1, sizeof(*names));
        for (size_t i = 0; i < m->macvtaps.n; i++)
                names[i] = m->macvtaps.v[i].meta.name;
        /* users[i]: where the i-th Macvtap is used first: a macvtap device serves one VM. */
        pf_loc *users = pf_xcalloc(m->macvtaps.n + 1, sizeof(*users));
        EACH(vm, m->vms) EACH(n, vm->networks) {
                if (n->backend != PF_BACKEND_MACVTAP || !n->macvtap)
                        continue;
                size_t found = m->macvtaps.n;
                for (size_t i = 0; i < m->macvtaps.n; i++)
                        if (names[i] && !strcmp(names[i], n->macvtap) && pf_meta_compatible(&m->macvtaps.v[i].meta, &vm->meta))
                                found = i;
                const pf_macvlan *elsewhere = NULL;
                for (size_t i = 0; i < m->macvtaps.n; i++)
                        if (names[i] && !strcmp(names[i], n->macvtap))
                                elsewhere = &m->macvtaps.v[i];
                if (found == m->macvtaps.n && elsewhere) {
                        char b[PF_QUOTE_MAX];
                        pf_error(diags, n->macvtap_loc, "Macvtap %s is declared only for host %s (at %s), but this VM %s",
                                 q(a, n->macvtap), q(b, elsewhere->meta.host), where(elsewhere->meta.name_loc, w, sizeof(w)),
                                 vm->meta.host ? "is for another host" : "applies to every host");
                } else if (found == m->macvtaps.n) {
                        const char *hint = pf_suggest(n->macvtap, names, m->macvtaps.n);
                        if (hint)
                                pf_error(diags, n->macvtap_loc, "no Macvtap named %s is declared; did you mean \"%s\"?", q(a, n->macvtap), hint);
                        else
                                pf_error(diags, n->macvtap_loc, "no Macvtap named %s is declared; add a Macvtap resource or use host: {interface: ...}",
                                         q(a, n->macvtap));
                } else if (pf_loc_set(users[found])) {
                        pf_error(diags, n->macvtap_loc, "Macvtap %s is already used by the network at %s; a macvtap device serves one VM interface",
                                 q(a, n->macvtap), where(users[found], w, sizeof(w)));
                } else {
                        users[found] = n->macvtap_loc;
                        check_macvtap_mac(diags, vm, n, &m->macvtaps.v[found]);
                }
        }
        free(users);
        free(names);
}

/* Constraint keys name things only Subnets define, so each must match some Subnet. Whether the
 * keys together match one Subnet with a free address is decided at plan time. */
static void check_constraint_refs(pf_diags *diags, const pf_model *m) {
        char a[PF_QUOTE_MAX];
        EACH(vm, m->vms) EACH(n, vm->networks) {
                if (n->backend != PF_BACKEND_CONSTRAINTS)
                        continue;
                bool space = false, subnet = false, fabric = false, vlan = false;
                EACH(s, m->subnets) {
                        if (!pf_meta_compatible(&s->meta, &vm->meta))
                                continue;
                        space |= n->c_space && s->space && !strcmp(s->space, n->c_space);
                        subnet |= n->c_subnet && s->meta.name && !strcmp(s->meta.name, n->c_subnet);
                        fabric |= n->c_fabric && s->fabric && !strcmp(s->fabric, n->c_fabric);
                        vlan |= pf_loc_set(n->c_vlan_loc) && s->vlan == n->c_vlan;
                }
                if (n->c_space && !space)
                        pf_error(diags, n->c_space_loc, "no Subnet is in space %s", q(a, n->c_space));
                if (n->c_subnet && !subnet)
                        pf_error(diags, n->c_subnet_loc, "no Subnet is named %s", q(a, n->c_subnet));
                if (n->c_fabric && !fabric)
                        pf_error(diags, n->c_fabric_loc, "no Subnet is on fabric %s", q(a, n->c_fabric));
                if (pf_loc_set(n->c_vlan_loc) && !vlan)
                        pf_error(diags, n->c_vlan_loc, "no Subnet is on VLAN %u", n->c_vlan);
        }
}

void pf_check_vm_refs(pf_diags *diags, const pf_model *m) {
        check_macs(diags, m);
        check_macvtap_refs(diags, m);
        check_constraint_refs(diags, m);
}

/* ---- references only the host can resolve (podform validate) ---- */

/* The names of one list of declared resources that can meet `on` on a host (NULL: any). */
#define DECLARED_NAMES(v, n, list, on)                                                        \
        do {                                                                                  \
                EACH(x_, list)                                                                \
                        if (x_->meta.name && (!(on) || pf_meta_compatible(&x_->meta, (on)))) \
                                (v)[(n)++] = x_->meta.name;                                   \
        } while (0)

static bool listed(const char *const *v, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (!strcmp(v[i], name))
                        return true;
        return false;
}

/* One warning: `what` names the reference, `live` what the host must have. */
static void warn_undeclared(pf_diags *diags, pf_loc at, const char *what, const char *name, const char *live,
                            const char *near) {
        char a[PF_QUOTE_MAX];
        pf_diag_add(diags, PF_WARNING, at, "%s %s is not declared here; it must exist on the host as %s" PF_HINT_FMT, what,
                    q(a, name), live, PF_HINT(near));
}

/* The declared links that can meet `on` on a host into v (room for all); returns how many. */
static size_t declared_links(const pf_model *m, const pf_meta *on, const char **v) {
        size_t n = 0;
        DECLARED_NAMES(v, n, m->bridges, on);
        DECLARED_NAMES(v, n, m->macvtaps, on);
        DECLARED_NAMES(v, n, m->macvlans, on);
        DECLARED_NAMES(v, n, m->vxlans, on);
        return n;
}

/* A host link is most often a NIC, which nothing declares: only a near miss of a declared link
 * is worth a warning. */
static void near_link(pf_diags *diags, const char *const *v, size_t n, pf_loc at, const char *what, const char *name) {
        const char *near = name && !listed(v, n, name) ? pf_suggest(name, v, n) : NULL;
        if (near)
                warn_undeclared(diags, at, what, name, "a link", near);
}

void pf_warn_undeclared(pf_diags *diags, const pf_model *m) {
        size_t cap = m->networks.n + m->pools.n + m->bridges.n + m->macvtaps.n + m->macvlans.n + m->vxlans.n + 1;
        const char **v = pf_xcalloc(cap, sizeof(*v));
        EACH(vm, m->vms) {
                if (vm->meta.load_failed)
                        continue;
                size_t n = 0;
                DECLARED_NAMES(v, n, m->networks, &vm->meta);
                EACH(x, vm->networks)
                        if (x->backend == PF_BACKEND_NETWORK && x->network && !listed(v, n, x->network))
                                warn_undeclared(diags, x->network_loc, "network", x->network, "a libvirt network",
                                                pf_suggest(x->network, v, n));
                n = 0;
                DECLARED_NAMES(v, n, m->pools, &vm->meta);
                EACH(disk, vm->disks)
                        if (disk->pool && (disk->size || pf_loc_set(disk->size_loc)) && !listed(v, n, disk->pool))
                                warn_undeclared(diags, disk->pool_loc, "storage pool", disk->pool, "a libvirt storage pool",
                                                pf_suggest(disk->pool, v, n));
                n = declared_links(m, &vm->meta, v);
                EACH(x, vm->networks) near_link(diags, v, n, x->host_interface_loc, "host interface", x->host_interface);
        }
        size_t n;
#define PARENTS(list)                                                                                            \
        EACH(t, m->list) {                                                                                       \
                n = declared_links(m, &t->meta, v);                                                              \
                near_link(diags, v, n, t->parent_loc, "parent", t->parent);                                      \
        }
        PARENTS(macvtaps)
        PARENTS(macvlans)
        PARENTS(vxlans)
#undef PARENTS
        EACH(b, m->bridges) {
                n = declared_links(m, &b->meta, v);
                EACH(p, b->ports) near_link(diags, v, n, p->loc, "port", p->name);
        }
        EACH(x, m->networks) {
                n = declared_links(m, &x->meta, v);
                if (x->forward == PF_FORWARD_BRIDGE)
                        near_link(diags, v, n, x->bridge_name_loc, "bridge", x->bridge_name);
                EACH(i, x->interfaces) near_link(diags, v, n, i->loc, "forward interface", i->name);
        }
        free(v);
}
