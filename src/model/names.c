#include "config.h"
#include "model/names.h"

#include <string.h>

#include "model/model.h"

#define ENUM(ident, label, max, ...) \
        static const char *const ident##_names[max] = { __VA_ARGS__ }; \
        const pf_enum ident##_enum = { label, ident##_names, max }

ENUM(pf_kind, "kind", _PF_KIND_MAX,
     [PF_KIND_HOST] = "Host", [PF_KIND_SUBNET] = "Subnet", [PF_KIND_BRIDGE] = "Bridge",
     [PF_KIND_MACVTAP] = "Macvtap", [PF_KIND_MACVLAN] = "Macvlan", [PF_KIND_NETWORK] = "Network",
     [PF_KIND_STORAGE_POOL] = "StoragePool", [PF_KIND_VIRTUAL_MACHINE] = "VirtualMachine",
     [PF_KIND_VXLAN] = "Vxlan");
ENUM(pf_attach_policy, "attach policy", _PF_ATTACH_MAX,
     [PF_ATTACH_AUTO] = "auto", [PF_ATTACH_LEGACY] = "legacy");
ENUM(pf_macvlan_mode, "macvlan mode", _PF_MACVLAN_MAX,
     [PF_MACVLAN_PRIVATE] = "private", [PF_MACVLAN_VEPA] = "vepa", [PF_MACVLAN_BRIDGE] = "bridge",
     [PF_MACVLAN_PASSTHRU] = "passthru");
ENUM(pf_subnet_dhcp, "DHCP mode", _PF_SUBNET_DHCP_MAX,
     [PF_SUBNET_DHCP_NONE] = "none", [PF_SUBNET_DHCP_MANAGED] = "managed",
     [PF_SUBNET_DHCP_RELAY] = "relay", [PF_SUBNET_DHCP_EXTERNAL] = "external");
ENUM(pf_link_state, "link state", _PF_LINK_STATE_MAX, [PF_LINK_UP] = "up", [PF_LINK_DOWN] = "down");
ENUM(pf_forward, "forward mode", _PF_FORWARD_MAX,
     [PF_FORWARD_NAT] = "nat", [PF_FORWARD_ROUTE] = "route", [PF_FORWARD_OPEN] = "open",
     [PF_FORWARD_NONE] = "none", [PF_FORWARD_BRIDGE] = "bridge", [PF_FORWARD_PRIVATE] = "private",
     [PF_FORWARD_VEPA] = "vepa", [PF_FORWARD_PASSTHROUGH] = "passthrough");
ENUM(pf_pool_type, "storage pool type", _PF_POOL_TYPE_MAX, [PF_POOL_DIR] = "dir");
ENUM(pf_domain_type, "domain type", _PF_DOMAIN_TYPE_MAX,
     [PF_DOMAIN_KVM] = "kvm", [PF_DOMAIN_QEMU] = "qemu");
ENUM(pf_boot_dev, "boot device", _PF_BOOT_MAX,
     [PF_BOOT_HD] = "hd", [PF_BOOT_NETWORK] = "network", [PF_BOOT_CDROM] = "cdrom", [PF_BOOT_FD] = "fd");
ENUM(pf_disk_format, "disk format", _PF_DISK_FORMAT_MAX, [PF_DISK_QCOW2] = "qcow2", [PF_DISK_RAW] = "raw");
ENUM(pf_disk_bus, "disk bus", _PF_BUS_MAX,
     [PF_BUS_VIRTIO] = "virtio", [PF_BUS_SATA] = "sata", [PF_BUS_SCSI] = "scsi", [PF_BUS_IDE] = "ide");
ENUM(pf_nic_model, "interface model", _PF_MODEL_MAX,
     [PF_MODEL_VIRTIO] = "virtio", [PF_MODEL_E1000] = "e1000", [PF_MODEL_E1000E] = "e1000e",
     [PF_MODEL_NE2K_PCI] = "ne2k_pci", [PF_MODEL_PCNET] = "pcnet", [PF_MODEL_RTL8139] = "rtl8139");
ENUM(pf_binding, "interface binding", _PF_BINDING_MAX,
     [PF_BINDING_BRIDGE] = "bridge", [PF_BINDING_MACVTAP] = "macvtap",
     [PF_BINDING_MASQUERADE] = "masquerade", [PF_BINDING_SLIRP] = "slirp", [PF_BINDING_SRIOV] = "sriov");
ENUM(pf_backend, "network backend", _PF_BACKEND_MAX,
     [PF_BACKEND_POD] = "pod", [PF_BACKEND_MULTUS] = "multus",
     [PF_BACKEND_GENIE] = "genie", [PF_BACKEND_NETWORK] = "network", [PF_BACKEND_HOST] = "host",
     [PF_BACKEND_CONSTRAINTS] = "constraints", [PF_BACKEND_MACVTAP] = "macvtap");
ENUM(pf_protocol, "protocol", _PF_PROTO_MAX, [PF_PROTO_TCP] = "TCP", [PF_PROTO_UDP] = "UDP");
ENUM(pf_constraint_type, "constraint type", _PF_CTYPE_MAX,
     [PF_CTYPE_BRIDGE] = "bridge", [PF_CTYPE_MACVLAN] = "macvlan");

const char *pf_enum_name(const pf_enum *e, int v) {
        return v >= 0 && (size_t) v < e->n && e->names[v] ? e->names[v] : "?";
}

int pf_enum_lookup(const pf_enum *e, const char *s) {
        for (size_t i = 0; i < e->n; i++)
                if (e->names[i] && strcmp(e->names[i], s) == 0)
                        return (int) i;
        return -1;
}

bool pf_meta_compatible(const pf_meta *a, const pf_meta *b) {
        return !a->host || !b->host || strcmp(a->host, b->host) == 0;
}

const pf_macvlan *pf_iface_macvtap(const pf_model *m, const pf_vm *vm, const pf_iface *i) {
        if (!i->name)
                return NULL;
        for (size_t x = 0; x < vm->networks.n; x++) {
                const pf_vm_net *n = &vm->networks.v[x];
                if (n->backend != PF_BACKEND_MACVTAP || !n->macvtap || !n->name || strcmp(n->name, i->name) != 0)
                        continue;
                for (size_t t = 0; t < m->macvtaps.n; t++)
                        if (m->macvtaps.v[t].meta.name && !strcmp(m->macvtaps.v[t].meta.name, n->macvtap) &&
                            pf_meta_compatible(&m->macvtaps.v[t].meta, &vm->meta))
                                return &m->macvtaps.v[t];
        }
        return NULL;
}

const pf_mac *pf_macvtap_mac(const pf_model *m, const pf_macvlan *macvtap, const pf_iface **user_ret) {
        const pf_iface *user = NULL;
        for (size_t v = 0; v < m->vms.n && !user && macvtap->meta.name; v++) {
                const pf_vm *vm = &m->vms.v[v];
                if (!pf_meta_compatible(&macvtap->meta, &vm->meta))
                        continue;
                for (size_t x = 0; x < vm->networks.n && !user; x++) {
                        const pf_vm_net *n = &vm->networks.v[x];
                        if (n->backend != PF_BACKEND_MACVTAP || !n->macvtap || !n->name || strcmp(n->macvtap, macvtap->meta.name))
                                continue;
                        for (size_t k = 0; k < vm->interfaces.n && !user; k++)
                                if (vm->interfaces.v[k].name && !strcmp(vm->interfaces.v[k].name, n->name))
                                        user = &vm->interfaces.v[k];
                }
        }
        if (user_ret)
                *user_ret = user;
        if (pf_loc_set(macvtap->mac_address_loc))
                return &macvtap->mac_address;
        return user && pf_loc_set(user->mac_address_loc) ? &user->mac_address : NULL;
}
