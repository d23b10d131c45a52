/* kinds_vm.c: the format of a VirtualMachine (KubeVirt's shape, MAAS's storage shorthand). */
#include "config.h"
#include "config/walk.h"

#include <stdio.h>
#include <string.h>

#include "config/values.h"
#include "model/names.h"

static const range r_vlan = { 0, 4094 }, r_port = { 1, 65535 }, r_boot_order = { 1, 65535 },
                   r_cores = { 1, 1024 }, r_sockets = { 1, 64 }, r_threads = { 1, 8 };

SEQ(seq_names, pf_name, p_name, NULL, offsetof(pf_name, loc));
SEQ(seq_boot, pf_boot, p_enum, &pf_boot_dev_enum, offsetof(pf_boot, loc));

static bool p_storage(walk *w, const pf_node *n, void *base, const field *f);
static bool p_memory(walk *w, const pf_node *n, void *base, const field *f);
static bool p_disks(walk *w, const pf_node *n, void *base, const field *f);

TABLE(kv_disk_table, "disk", pf_disk, NOLOC, NULL,
      FLD(pf_disk, "bus", p_enum, bus, &pf_disk_bus_enum));
TABLE(disk_table, "disk", pf_disk, offsetof(pf_disk, loc), NULL,
      REQ(pf_disk, "name", p_name, name, NULL),
      FLD(pf_disk, "size", p_quantity, size, "Gi"),
      FLD(pf_disk, "pool", p_name, pool, NULL),
      FLD(pf_disk, "format", p_enum, format, &pf_disk_format_enum),
      FLD(pf_disk, "bus", p_enum, bus, &pf_disk_bus_enum),
      FLD(pf_disk, "bootOrder", p_uint, boot_order, &r_boot_order),
      SUB(pf_disk, "disk", kv_disk_table, NOLOC));
SEQ(seq_disks, pf_disk, p_map, &disk_table, NOLOC);

TABLE(port_table, "port", pf_port, offsetof(pf_port, loc), NULL,
      FLD(pf_port, "name", p_name, name, NULL),
      REQ(pf_port, "port", p_uint, port, &r_port),
      FLD(pf_port, "protocol", p_enum, protocol, &pf_protocol_enum));
SEQ(seq_ports, pf_port, p_map, &port_table, NOLOC);

TABLE(macvtap_binding_table, "macvtap binding", pf_iface, NOLOC, NULL,
      FLD(pf_iface, "mode", p_enum, macvtap_mode, &pf_macvlan_mode_enum));

#define BINDING(ident, val, fn, a) \
        static const choice ident = { "binding", "interface", offsetof(pf_iface, binding), \
                                      offsetof(pf_iface, binding_loc), val, fn, a }
BINDING(bind_bridge, PF_BINDING_BRIDGE, NULL, NULL);
BINDING(bind_macvtap, PF_BINDING_MACVTAP, p_map, &macvtap_binding_table);
BINDING(bind_masquerade, PF_BINDING_MASQUERADE, NULL, NULL);
BINDING(bind_slirp, PF_BINDING_SLIRP, NULL, NULL);
BINDING(bind_sriov, PF_BINDING_SRIOV, NULL, NULL);

static void iface_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        pf_iface *i = base;
        if (i->binding == PF_BINDING_NONE && n->type == PF_NODE_MAPPING)
                pf_error(D(w), here,
                         "interface has no binding; add exactly one of: bridge, macvtap, masquerade, slirp, sriov (e.g. bridge: {})");
}
TABLE(iface_table, "interface", pf_iface, offsetof(pf_iface, loc), iface_finish,
      REQ(pf_iface, "name", p_name, name, NULL),
      { "bridge", p_choice, 0, NOLOC, &bind_bridge, false, false },
      { "macvtap", p_choice, 0, NOLOC, &bind_macvtap, false, false },
      { "masquerade", p_choice, 0, NOLOC, &bind_masquerade, false, false },
      { "slirp", p_choice, 0, NOLOC, &bind_slirp, false, false },
      { "sriov", p_choice, 0, NOLOC, &bind_sriov, false, false },
      FLD(pf_iface, "model", p_enum, model, &pf_nic_model_enum),
      FLD(pf_iface, "macAddress", p_mac, mac_address, NULL),
      FLD(pf_iface, "pciAddress", p_pci, pci_address, NULL),
      FLD(pf_iface, "bootOrder", p_uint, boot_order, &r_boot_order),
      FLD(pf_iface, "ports", p_seq, ports, &seq_ports),
      FLD(pf_iface, "bootFileName", p_string, boot_file_name, NULL),
      FLD(pf_iface, "tftpServerName", p_host_or_ip, tftp_server_name, NULL));
SEQ(seq_ifaces, pf_iface, p_map, &iface_table, NOLOC);

TABLE(pod_table, "pod", pf_vm_net, NOLOC, NULL,
      FLD(pf_vm_net, "vmNetworkCIDR", p_net_cidr, pod_vm_network_cidr, NULL));
TABLE(multus_table, "multus", pf_vm_net, NOLOC, NULL,
      REQ(pf_vm_net, "networkName", p_name, network_name, NULL),
      FLD(pf_vm_net, "default", p_bool, multus_default, NULL));
TABLE(genie_table, "genie", pf_vm_net, NOLOC, NULL,
      REQ(pf_vm_net, "networkName", p_name, network_name, NULL));
/* Checks of which keys are given look at the YAML, not at the values: a key with a bad value
 * has had its own error and still counts as given. */
static void host_net_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) base;
        if (n->type != PF_NODE_MAPPING && !pf_node_is_null(n))
                return;
        if (pf_cfg_has_key(n, "interface") == pf_cfg_has_key(n, "pci"))
                pf_error(D(w), here, "host network needs exactly one of \"interface\" (a host link) or \"pci\" (a PCI device)");
}
TABLE(host_net_table, "host network", pf_vm_net, NOLOC, host_net_finish,
      FLD(pf_vm_net, "interface", p_ifname, host_interface, NULL),
      FLD(pf_vm_net, "pci", p_pci, host_pci, NULL));
static void constraints_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) base;
        if (pf_node_is_null(n) || (n->type == PF_NODE_MAPPING && n->n == 0))
                pf_error(D(w), here, "constraints are empty; give at least one of space, subnet, vlan, fabric, ip, mode, type");
}
TABLE(constraints_table, "constraints", pf_vm_net, NOLOC, constraints_finish,
      FLD(pf_vm_net, "space", p_name, c_space, NULL),
      FLD(pf_vm_net, "subnet", p_name, c_subnet, NULL),
      FLD(pf_vm_net, "vlan", p_uint, c_vlan, &r_vlan),
      FLD(pf_vm_net, "fabric", p_name, c_fabric, NULL),
      FLD(pf_vm_net, "ip", p_ip, c_ip, NULL),
      FLD(pf_vm_net, "mode", p_enum, c_mode, &pf_macvlan_mode_enum),
      FLD(pf_vm_net, "type", p_enum, c_type, &pf_constraint_type_enum));

#define BACKEND(ident, val, fn, a) \
        static const choice ident = { "backend", "network", offsetof(pf_vm_net, backend), \
                                      offsetof(pf_vm_net, backend_loc), val, fn, a }
BACKEND(be_pod, PF_BACKEND_POD, p_map, &pod_table);
BACKEND(be_multus, PF_BACKEND_MULTUS, p_map, &multus_table);
BACKEND(be_genie, PF_BACKEND_GENIE, p_map, &genie_table);
BACKEND(be_network, PF_BACKEND_NETWORK, p_name, NULL);
BACKEND(be_host, PF_BACKEND_HOST, p_map, &host_net_table);
BACKEND(be_constraints, PF_BACKEND_CONSTRAINTS, p_map, &constraints_table);
BACKEND(be_macvtap, PF_BACKEND_MACVTAP, p_ifname, NULL);

static void vm_net_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        pf_vm_net *v = base;
        if (v->backend == PF_BACKEND_NONE && n->type == PF_NODE_MAPPING)
                pf_error(D(w), here,
                         "network has no backend; add exactly one of: pod, multus, genie, network, host, constraints, macvtap");
}
TABLE(vm_net_table, "network", pf_vm_net, offsetof(pf_vm_net, loc), vm_net_finish,
      REQ(pf_vm_net, "name", p_name, name, NULL),
      { "pod", p_choice, 0, NOLOC, &be_pod, false, false },
      { "multus", p_choice, 0, NOLOC, &be_multus, false, false },
      { "genie", p_choice, 0, NOLOC, &be_genie, false, false },
      { "network", p_choice, offsetof(pf_vm_net, network), offsetof(pf_vm_net, network_loc), &be_network, false, false },
      { "host", p_choice, 0, NOLOC, &be_host, false, false },
      { "constraints", p_choice, 0, NOLOC, &be_constraints, false, false },
      { "macvtap", p_choice, offsetof(pf_vm_net, macvtap), offsetof(pf_vm_net, macvtap_loc), &be_macvtap, false, false });
SEQ(seq_vm_nets, pf_vm_net, p_map, &vm_net_table, NOLOC);

TABLE(cloud_init_table, "cloudInitNoCloud", pf_volume, NOLOC, NULL,
      FLD(pf_volume, "userData", p_string, user_data, NULL),
      FLD(pf_volume, "networkData", p_string, network_data, NULL));
static void volume_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) base;
        if (!pf_cfg_has_key(n, "cloudInitNoCloud") && n->type == PF_NODE_MAPPING)
                pf_error(D(w), here, "volume has no source; podform supports cloudInitNoCloud volumes");
}
TABLE(volume_table, "volume", pf_volume, offsetof(pf_volume, loc), volume_finish,
      FLD(pf_volume, "name", p_name, name, NULL),
      SUB(pf_volume, "cloudInitNoCloud", cloud_init_table, offsetof(pf_volume, cloud_init_loc)));
SEQ(seq_volumes, pf_volume, p_map, &volume_table, NOLOC);

TABLE(cpu_table, "cpu", pf_vm, NOLOC, NULL,
      FLD(pf_vm, "cores", p_uint, cores, &r_cores),
      FLD(pf_vm, "sockets", p_uint, sockets, &r_sockets),
      FLD(pf_vm, "threads", p_uint, threads, &r_threads));
TABLE(devices_table, "devices", pf_vm, NOLOC, NULL,
      FLD(pf_vm, "disks", p_disks, disks, &seq_disks),
      FLD(pf_vm, "interfaces", p_seq, interfaces, &seq_ifaces),
      FLD(pf_vm, "networkInterfaceMultiqueue", p_bool, multiqueue, NULL),
      FLD(pf_vm, "logSerialConsole", p_bool, log_serial_console, NULL),
      FLD(pf_vm, "autoattachPodInterface", p_bool, autoattach_pod_interface, NULL));
TABLE(domain_table, "domain", pf_vm, NOLOC, NULL,
      FLD(pf_vm, "type", p_enum, type, &pf_domain_type_enum),
      FLD(pf_vm, "arch", p_name, arch, NULL),
      FLD(pf_vm, "machine", p_name, machine, NULL),
      SUB(pf_vm, "cpu", cpu_table, NOLOC),
      FLD(pf_vm, "memory", p_memory, memory, "Mi"),
      FLD(pf_vm, "boot", p_seq, boot, &seq_boot),
      SUB(pf_vm, "devices", devices_table, NOLOC));

static void vm_finish(walk *w, const pf_node *n, pf_loc here, void *base);
static const field vm_fields[] = {
        FLD(pf_vm, "running", p_bool, running, NULL),
        FLD(pf_vm, "autostart", p_bool, autostart, NULL),
        FLD(pf_vm, "pool", p_name, pool, NULL),
        FLD(pf_vm, "tags", p_seq, tags, &seq_names),
        SUB(pf_vm, "domain", domain_table, NOLOC),
        FLD(pf_vm, "storage", p_storage, storage, NULL),
        FLD(pf_vm, "networks", p_seq, networks, &seq_vm_nets),
        FLD(pf_vm, "volumes", p_seq, volumes, &seq_volumes),
};
const table pf_cfg_vm_table = { "VirtualMachine spec", vm_fields, sizeof(vm_fields) / sizeof(field), NOLOC, vm_finish };

/* Memory in decimal units is a quantity, but rarely what was meant: 4GB is 3.73 GiB. */
static bool p_memory(walk *w, const pf_node *n, void *base, const field *f) {
        if (!p_quantity(w, n, base, f))
                return false;
        static const struct { const char *decimal, *binary; } units[] = {
                { "k", "Ki" }, { "KB", "Ki" }, { "M", "Mi" }, { "MB", "Mi" },
                { "G", "Gi" }, { "GB", "Gi" }, { "T", "Ti" }, { "TB", "Ti" },
        };
        const char *s = n->value;
        size_t digits = strspn(s, "0123456789.");
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (strcmp(s + digits, units[i].decimal))
                        continue;
                uint64_t bytes = ((pf_vm *) base)->memory;
                char q[PF_QUOTE_MAX];
                pf_diag_add(D(w), PF_WARNING, loc_of(w, n),
                            "memory %s is in decimal units: %llu bytes, %.2f GiB; for %.*s %sB write %.*s%s",
                            pf_quote(q, sizeof(q), s, n->len), (unsigned long long) bytes, (double) bytes / (1ULL << 30),
                            (int) digits, s, units[i].binary, (int) digits, s, units[i].binary);
                break;
        }
        return true;
}

/* storage: and domain.devices.disks say the same thing; whichever comes second is the error. */
static bool storage_exclusive(walk *w, const pf_node *n, const char *second, const char *first, pf_loc first_loc) {
        pf_error(D(w), loc_of(w, n), "\"%s\" cannot be combined with %s given at line %u; use one of them",
                 second, first, first_loc.line);
        return false;
}

static bool p_disks(walk *w, const pf_node *n, void *base, const field *f) {
        pf_vm *vm = base;
        if (pf_loc_set(vm->storage_loc))
                return storage_exclusive(w, n, "disks", "the storage shorthand", vm->storage_loc);
        return p_seq(w, n, base, f);
}

/* One entry of the storage shorthand, "LABEL:SIZE" or "LABEL:SIZE(POOL)", split in place.
 * Returns NULL, or what is wrong with it and (in *why_off) where in the entry. */
static const char *split_storage_entry(char *e, char **label, char **size, char **pool, size_t *why_off) {
        char *colon = strchr(e, ':');
        char *paren = strchr(e, '(');
        size_t elen_chars = strlen(e);
        *label = e, *size = NULL, *pool = NULL;
        if (!colon || (paren && paren < colon))
                return "is not LABEL:SIZE or LABEL:SIZE(POOL)";
        *colon = '\0';
        *size = colon + 1;
        if (paren) {
                *paren = '\0';
                *pool = paren + 1;
                if (elen_chars == 0 || e[elen_chars - 1] != ')') {
                        *why_off = elen_chars;
                        return "has no closing ')' after the pool name";
                }
                e[elen_chars - 1] = '\0';
        }
        return NULL;
}

/* The size of a storage entry: a bare number is GB, as MAAS reads it. */
static const char *storage_size(const char *size, uint64_t *ret) {
        char q[64];
        size_t slen = strlen(size);
        bool bare = slen && strspn(size, "0123456789.") == slen;
        if (slen + 2 > sizeof(q))
                return "has a size that is too long";
        snprintf(q, sizeof(q), bare ? "%sG" : "%s", size);
        if (!slen)
                return "has no size after ':'";
        const char *why = pf_parse_quantity(q, ret);
        if (why && strstr(why, "unit"))
                return "has a size that is neither a number of GB nor a quantity like 32Gi";
        return why;
}

/* The storage entry of elen bytes at `entry` (inside s, the text of n) into *ret, or false
 * after an error that points at the character inside the entry. */
static bool storage_entry(walk *w, const pf_node *n, const char *s, const char *entry, size_t elen, pf_disk *ret) {
        pf_loc at_entry = loc_of(w, n);
        if (n->single_line)
                at_entry.col += (uint32_t) (entry - s) + (n->quoted ? 1 : 0);
        char *e = pf_arena_strndup(&w->cfg->arena, entry, elen);
        char *label, *size, *pool;
        size_t why_off = 0;
        const char *why = split_storage_entry(e, &label, &size, &pool, &why_off);
        pf_disk d = { .from_storage = true, .loc = at_entry, .name_loc = at_entry };
        if (!why && !*label)
                why = "has no label before ':'";
        else if (!why && pf_check_name(label, strlen(label)))
                why = "has a label that is not a name: letters, digits, '_', '.' and '-', at most 63";
        if (!why) {
                why = storage_size(size, &d.size);
                why_off = (size_t) (size - e);
        }
        if (!why && pool && pf_check_name(pool, strlen(pool))) {
                why = "has a pool that is not a name: letters, digits, '_', '.' and '-', at most 63";
                why_off = (size_t) (pool - e);
        }
        if (why) {
                char qbuf[PF_QUOTE_MAX];
                pf_loc l = at_entry;
                if (n->single_line)
                        l.col += (uint32_t) why_off;
                pf_error(D(w), l, "storage entry %s %s", pf_quote(qbuf, sizeof(qbuf), entry, elen), why);
                return false;
        }
        d.name = label;
        d.pool = pool;
        d.size_loc = d.pool_loc = at_entry;
        if (!pool)
                d.pool_loc = (pf_loc) { 0 };
        *ret = d;
        return true;
}

/* The MAAS shorthand "label:size(pool),label:size": bare sizes are decimal GB, as in MAAS.
 * Errors point at the character inside the string when it is written on one line. */
static bool p_storage(walk *w, const pf_node *n, void *base, const field *f) {
        pf_vm *vm = base;
        const char *s = pf_cfg_scalar(w, n, f, "a string like \"root:32(pool1),home:64\"");
        if (!s)
                return false;
        if (pf_loc_set(vm->disks_loc))
                return storage_exclusive(w, n, "storage", "domain.devices.disks", vm->disks_loc);
        vm->storage = s;
        vm->storage_loc = loc_of(w, n);
        size_t count = 1;
        for (const char *p = s; *p; p++)
                count += *p == ',';
        pf_disk *disks = pf_arena_array(&w->cfg->arena, count, sizeof(*disks));
        size_t nd = 0;
        bool ok = true;
        const char *p = s;
        for (size_t i = 0; i < count; i++) {
                while (*p == ' ')
                        p++;
                const char *entry = p;
                const char *end = strchr(p, ',');
                if (!end)
                        end = p + strlen(p);
                size_t elen = (size_t) (end - p);
                while (elen && entry[elen - 1] == ' ')
                        elen--;
                if (storage_entry(w, n, s, entry, elen, &disks[nd]))
                        nd++;
                else
                        ok = false;
                p = *end ? end + 1 : end;
        }
        vm->disks.v = disks;
        vm->disks.n = nd;
        return ok;
}

static void vm_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) n, (void) here;
        pf_vm *vm = base;
        /* KubeVirt: no interfaces and no networks means one bridge NIC on the pod network. */
        if (vm->autoattach_pod_interface && vm->interfaces.n == 0 && vm->networks.n == 0 &&
            !pf_loc_set(vm->interfaces_loc) && !pf_loc_set(vm->networks_loc)) {
                pf_iface *i = pf_arena_alloc(&w->cfg->arena, sizeof(*i));
                *i = (pf_iface) { .name = "default", .binding = PF_BINDING_BRIDGE, .implicit = true };
                pf_vm_net *v = pf_arena_alloc(&w->cfg->arena, sizeof(*v));
                *v = (pf_vm_net) { .name = "default", .backend = PF_BACKEND_POD };
                vm->interfaces.v = i;
                vm->interfaces.n = 1;
                vm->networks.v = v;
                vm->networks.n = 1;
        }
}

/* ---- documents ---- */

void pf_cfg_vm_init(void *r, pf_arena *a) {
        pf_vm *vm = r;
        /* each VM its own list, so nothing can write through one VM into another's default */
        pf_boot *default_boot = pf_arena_array(a, 2, sizeof(*default_boot));
        default_boot[0] = (pf_boot) { .dev = PF_BOOT_NETWORK };
        default_boot[1] = (pf_boot) { .dev = PF_BOOT_HD };
        vm->running = true;
        vm->arch = "x86_64";
        vm->cores = vm->sockets = vm->threads = 1;
        vm->memory = 2ULL << 30;        /* MAAS compose's default */
        vm->boot.v = default_boot;
        vm->boot.n = 2;
        vm->autoattach_pod_interface = true;
}
