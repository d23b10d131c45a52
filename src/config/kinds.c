/* kinds.c: the format of each kind but VirtualMachine (kinds_vm.c), one table per mapping, and
 * each kind's defaults. */
#include "config.h"
#include "config/walk.h"

#include <string.h>
#include <sys/socket.h>

#include "model/names.h"

static const range r_vlan = { 0, 4094 }, r_mtu = { 68, 65535 }, r_port = { 1, 65535 },
                   r_delay = { 0, 30 }, r_net_delay = { 0, 3600 }, r_prefix = { 0, 128 };
static const drange r_ratio = { 0.0, 100.0 };

SEQ(seq_ifnames, pf_name, p_ifname, NULL, offsetof(pf_name, loc));
SEQ(seq_cidrs, pf_cidr_item, p_host_cidr, NULL, offsetof(pf_cidr_item, loc));
SEQ(seq_reserved, pf_ip_range, p_ip_range, NULL, offsetof(pf_ip_range, loc));

static const field meta_fields[] = {
        REQ(pf_meta, "name", p_string, name, NULL),
        FLD(pf_meta, "host", p_name, host, NULL),
        FLD(pf_meta, "labels", p_labels, labels, NULL),
};
const table pf_cfg_meta_table = { "metadata", meta_fields, sizeof(meta_fields) / sizeof(field), NOLOC, NULL };

/* Host */
TABLE(overcommit_table, "overcommit", pf_host, NOLOC, NULL,
      FLD(pf_host, "cpu", p_double, overcommit_cpu, &r_ratio),
      FLD(pf_host, "memory", p_double, overcommit_memory, &r_ratio));
TABLE(host_table, "Host spec", pf_host, NOLOC, NULL,
      FLD(pf_host, "connect", p_string, connect, NULL),
      FLD(pf_host, "attachPolicy", p_enum, attach_policy, &pf_attach_policy_enum),
      FLD(pf_host, "defaultMacvlanMode", p_enum, default_macvlan_mode, &pf_macvlan_mode_enum),
      FLD(pf_host, "defaultStoragePool", p_name, default_storage_pool, NULL),
      SUB(pf_host, "overcommit", overcommit_table, NOLOC),
      FLD(pf_host, "permitBridgeOnPodNetwork", p_bool, permit_bridge_on_pod_network, NULL),
      FLD(pf_host, "prune", p_bool, prune, NULL),
      FLD(pf_host, "vmNetworkCIDR", p_net_cidr, vm_network_cidr, NULL));

/* Subnet */
TABLE(subnet_table, "Subnet spec", pf_subnet, NOLOC, NULL,
      REQ(pf_subnet, "cidr", p_net_cidr, cidr, NULL),
      FLD(pf_subnet, "vlan", p_uint, vlan, &r_vlan),
      FLD(pf_subnet, "fabric", p_name, fabric, NULL),
      FLD(pf_subnet, "space", p_name, space, NULL),
      FLD(pf_subnet, "dhcp", p_enum, dhcp, &pf_subnet_dhcp_enum),
      FLD(pf_subnet, "gateway", p_ip, gateway, NULL),
      FLD(pf_subnet, "reserved", p_seq, reserved, &seq_reserved),
      FLD(pf_subnet, "interfaces", p_seq, interfaces, &seq_ifnames));

/* Bridge */
TABLE(bridge_table, "Bridge spec", pf_bridge, NOLOC, NULL,
      FLD(pf_bridge, "ports", p_seq, ports, &seq_ifnames),
      FLD(pf_bridge, "stp", p_bool, stp, NULL),
      FLD(pf_bridge, "forwardDelay", p_uint, forward_delay, &r_delay),
      FLD(pf_bridge, "mtu", p_uint, mtu, &r_mtu),
      FLD(pf_bridge, "macAddress", p_mac, mac_address, NULL),
      FLD(pf_bridge, "addresses", p_seq, addresses, &seq_cidrs),
      FLD(pf_bridge, "state", p_enum, state, &pf_link_state_enum));

/* Macvtap, Macvlan */
TABLE(macvlan_table, "Macvlan spec", pf_macvlan, NOLOC, NULL,
      REQ(pf_macvlan, "parent", p_ifname, parent, NULL),
      FLD(pf_macvlan, "mode", p_enum, mode, &pf_macvlan_mode_enum),
      FLD(pf_macvlan, "macAddress", p_mac, mac_address, NULL),
      FLD(pf_macvlan, "addresses", p_seq, addresses, &seq_cidrs),
      FLD(pf_macvlan, "state", p_enum, state, &pf_link_state_enum));
/* The same shape; validate.c explains why a Macvtap takes no addresses. */
static const table macvtap_table = { "Macvtap spec", macvlan_table_fields,
                                     sizeof(macvlan_table_fields) / sizeof(field), NOLOC, NULL };

/* Vxlan */
static const range r_vni = { 1, 16777215 };
TABLE(vxlan_table, "Vxlan spec", pf_vxlan, NOLOC, NULL,
      REQ(pf_vxlan, "id", p_uint, id, &r_vni),
      FLD(pf_vxlan, "parent", p_ifname, parent, NULL),
      FLD(pf_vxlan, "local", p_ip, local, NULL),
      FLD(pf_vxlan, "remote", p_ip, remote, NULL),
      FLD(pf_vxlan, "group", p_ip, group, NULL),
      FLD(pf_vxlan, "dstport", p_uint, dstport, &r_port),
      FLD(pf_vxlan, "learning", p_bool, learning, NULL),
      FLD(pf_vxlan, "mtu", p_uint, mtu, &r_mtu),
      FLD(pf_vxlan, "macAddress", p_mac, mac_address, NULL),
      FLD(pf_vxlan, "addresses", p_seq, addresses, &seq_cidrs),
      FLD(pf_vxlan, "state", p_enum, state, &pf_link_state_enum));

/* Network */
TABLE(range_table, "DHCP range", pf_ip_range, offsetof(pf_ip_range, loc), NULL,
      REQ(pf_ip_range, "start", p_ip, start, NULL),
      REQ(pf_ip_range, "end", p_ip, end, NULL));
static void dhcp_host_finish(walk *w, const pf_node *n, pf_loc here, void *base) {
        (void) base;
        if (n->type == PF_NODE_MAPPING && !pf_cfg_has_key(n, "mac") && !pf_cfg_has_key(n, "name"))
                pf_error(D(w), here, "DHCP host needs \"mac\" or \"name\" so that the DHCP server can recognise it");
}
TABLE(dhcp_host_table, "DHCP host", pf_dhcp_host, offsetof(pf_dhcp_host, loc), dhcp_host_finish,
      FLD(pf_dhcp_host, "mac", p_mac, mac, NULL),
      REQ(pf_dhcp_host, "ip", p_ip, ip, NULL),
      FLD(pf_dhcp_host, "name", p_name, name, NULL));
SEQ(seq_ranges, pf_ip_range, p_map, &range_table, NOLOC);
SEQ(seq_dhcp_hosts, pf_dhcp_host, p_map, &dhcp_host_table, NOLOC);
TABLE(bootp_table, "bootp", pf_net_ip, NOLOC, NULL,
      REQ(pf_net_ip, "file", p_string, bootp_file, NULL),
      FLD(pf_net_ip, "server", p_host_or_ip, bootp_server, NULL));
TABLE(dhcp_table, "dhcp", pf_net_ip, NOLOC, NULL,
      FLD(pf_net_ip, "ranges", p_seq, dhcp_ranges, &seq_ranges),
      FLD(pf_net_ip, "hosts", p_seq, dhcp_hosts, &seq_dhcp_hosts),
      SUB(pf_net_ip, "bootp", bootp_table, offsetof(pf_net_ip, bootp_loc)));
TABLE(net_ip_table, "ips entry", pf_net_ip, offsetof(pf_net_ip, loc), NULL,
      REQ(pf_net_ip, "address", p_ip, address, NULL),
      REQ(pf_net_ip, "prefix", p_uint, prefix, &r_prefix),
      SUB(pf_net_ip, "dhcp", dhcp_table, offsetof(pf_net_ip, dhcp_loc)));
SEQ(seq_net_ips, pf_net_ip, p_map, &net_ip_table, NOLOC);
/* A Network's bridge says stp and forwardDelay (seconds), as a Bridge does; "delay", libvirt's
 * attribute and the old spelling, is still read, with a warning that says what to write. */
static bool p_net_forward_delay(walk *w, const pf_node *n, void *base, const field *f) {
        pf_network *net = base;
        pf_loc key = pf_loc_set(w->key_loc) ? w->key_loc : loc_of(w, n);
        if (pf_loc_set(net->bridge_delay_loc)) {
                pf_error(D(w), key, "bridge.delay and bridge.forwardDelay are the same setting, given twice; keep forwardDelay");
                return false;
        }
        if (!p_uint(w, n, base, f))
                return false;
        if (!strcmp(f->key, "delay"))
                pf_diag_add(D(w), PF_WARNING, key, "bridge.delay is the old spelling of forwardDelay; write "
                            "forwardDelay: %u (seconds), as a Bridge does", net->bridge_delay);
        return true;
}
TABLE(net_bridge_table, "bridge", pf_network, NOLOC, NULL,
      FLD(pf_network, "name", p_ifname, bridge_name, NULL),
      FLD(pf_network, "stp", p_bool, bridge_stp, NULL),
      FLD(pf_network, "forwardDelay", p_net_forward_delay, bridge_delay, &r_net_delay),
      FLD(pf_network, "delay", p_net_forward_delay, bridge_delay, &r_net_delay));
TABLE(nat_ports_table, "nat ports", pf_network, NOLOC, NULL,
      REQ(pf_network, "start", p_uint, nat_port_start, &r_port),
      REQ(pf_network, "end", p_uint, nat_port_end, &r_port));
TABLE(nat_table, "nat", pf_network, NOLOC, NULL,
      SUB(pf_network, "ports", nat_ports_table, NOLOC));
TABLE(network_table, "Network spec", pf_network, NOLOC, NULL,
      FLD(pf_network, "forward", p_enum, forward, &pf_forward_enum),
      FLD(pf_network, "interfaces", p_seq, interfaces, &seq_ifnames),
      SUB(pf_network, "bridge", net_bridge_table, offsetof(pf_network, bridge_loc)),
      SUB(pf_network, "nat", nat_table, offsetof(pf_network, nat_loc)),
      FLD(pf_network, "domain", p_host_or_ip, domain, NULL),
      FLD(pf_network, "mtu", p_uint, mtu, &r_mtu),
      FLD(pf_network, "ips", p_seq, ips, &seq_net_ips),
      FLD(pf_network, "autostart", p_bool, autostart, NULL),
      FLD(pf_network, "active", p_bool, active, NULL));

/* StoragePool */
TABLE(pool_table, "StoragePool spec", pf_pool, NOLOC, NULL,
      FLD(pf_pool, "type", p_enum, type, &pf_pool_type_enum),
      REQ(pf_pool, "path", p_abspath, path, NULL),
      FLD(pf_pool, "autostart", p_bool, autostart, NULL));


/* ---- the kinds ---- */

void pf_host_defaults(pf_host *h) {
        *h = (pf_host) { 0 };
        h->connect = "qemu:///system";
        h->default_macvlan_mode = PF_MACVLAN_BRIDGE;
        h->default_storage_pool = "default";
        h->overcommit_cpu = h->overcommit_memory = 1.0;
        h->permit_bridge_on_pod_network = true;
        /* KubeVirt's default for masquerade */
        h->vm_network_cidr = (pf_cidr) { .ip = { .family = AF_INET, .addr = { 10, 0, 2, 0 } }, .prefix = 24 };
}
static void host_init(void *r, pf_arena *a) { (void) a; pf_host_defaults(r); }
/* bridge.stp: false, as on a Bridge (and the kernel's); a network that exists keeps its own
 * unless stp is written (kinds/network.c). */
static void network_init(void *r, pf_arena *a) {
        (void) a;
        pf_network *n = r;
        n->autostart = n->active = true;
}
static void pool_init(void *r, pf_arena *a) { (void) a; ((pf_pool *) r)->autostart = true; }
static void macvtap_init(void *r, pf_arena *a) { (void) a; ((pf_macvlan *) r)->kind = PF_KIND_MACVTAP; }
static void macvlan_init(void *r, pf_arena *a) { (void) a; ((pf_macvlan *) r)->kind = PF_KIND_MACVLAN; }
/* dstport: IANA's 4789, not the kernel's own default 8472 (which predates the assignment). */
static void vxlan_init(void *r, pf_arena *a) {
        (void) a;
        pf_vxlan *v = r;
        v->dstport = 4789;
        v->learning = true;
}

const kind_info pf_cfg_kinds[_PF_KIND_MAX] = {
        [PF_KIND_HOST] = { &host_table, sizeof(pf_host), offsetof(pf_model, hosts), false, host_init },
        [PF_KIND_SUBNET] = { &subnet_table, sizeof(pf_subnet), offsetof(pf_model, subnets), false, NULL },
        [PF_KIND_BRIDGE] = { &bridge_table, sizeof(pf_bridge), offsetof(pf_model, bridges), true, NULL },
        [PF_KIND_MACVTAP] = { &macvtap_table, sizeof(pf_macvlan), offsetof(pf_model, macvtaps), true, macvtap_init },
        [PF_KIND_MACVLAN] = { &macvlan_table, sizeof(pf_macvlan), offsetof(pf_model, macvlans), true, macvlan_init },
        [PF_KIND_NETWORK] = { &network_table, sizeof(pf_network), offsetof(pf_model, networks), false, network_init },
        [PF_KIND_STORAGE_POOL] = { &pool_table, sizeof(pf_pool), offsetof(pf_model, pools), false, pool_init },
        [PF_KIND_VIRTUAL_MACHINE] = { &pf_cfg_vm_table, sizeof(pf_vm), offsetof(pf_model, vms), false, pf_cfg_vm_init },
        [PF_KIND_VXLAN] = { &vxlan_table, sizeof(pf_vxlan), offsetof(pf_model, vxlans), true, vxlan_init },
};
