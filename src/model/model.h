/* model.h: the desired state of a host, as loaded from YAML.
 *
 * Every field `x` has a companion `pf_loc x_loc`: where it was written (line 0 = absent, so the
 * default applies). Later stages use the locations for their own errors, so they never need the
 * YAML again. All memory belongs to the configuration's arena (config/load.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"

#define PF_LIST(T) struct { T *v; size_t n; }
/* Iterate a PF_LIST; an empty list's v may be NULL, and NULL + 0 is undefined in C. */
#define EACH(it, list)                                                                        \
        for (__typeof__((list).v[0]) *it = (list).v, *it##_end_ = (list).n ? (list).v + (list).n : (list).v; \
             it != it##_end_; it++)

/* ---- enums; names.c maps them to their YAML spelling ---- */
typedef enum pf_kind {
        PF_KIND_HOST, PF_KIND_SUBNET, PF_KIND_BRIDGE, PF_KIND_MACVTAP, PF_KIND_MACVLAN,
        PF_KIND_NETWORK, PF_KIND_STORAGE_POOL, PF_KIND_VIRTUAL_MACHINE, PF_KIND_VXLAN, _PF_KIND_MAX
} pf_kind;

typedef enum pf_attach_policy { PF_ATTACH_AUTO, PF_ATTACH_LEGACY, _PF_ATTACH_MAX } pf_attach_policy;
typedef enum pf_macvlan_mode {
        PF_MACVLAN_PRIVATE, PF_MACVLAN_VEPA, PF_MACVLAN_BRIDGE, PF_MACVLAN_PASSTHRU, _PF_MACVLAN_MAX
} pf_macvlan_mode;
typedef enum pf_subnet_dhcp {
        PF_SUBNET_DHCP_NONE, PF_SUBNET_DHCP_MANAGED, PF_SUBNET_DHCP_RELAY, PF_SUBNET_DHCP_EXTERNAL,
        _PF_SUBNET_DHCP_MAX
} pf_subnet_dhcp;
typedef enum pf_link_state { PF_LINK_UP, PF_LINK_DOWN, _PF_LINK_STATE_MAX } pf_link_state;
typedef enum pf_forward {
        PF_FORWARD_NAT, PF_FORWARD_ROUTE, PF_FORWARD_OPEN, PF_FORWARD_NONE, PF_FORWARD_BRIDGE,
        PF_FORWARD_PRIVATE, PF_FORWARD_VEPA, PF_FORWARD_PASSTHROUGH, _PF_FORWARD_MAX
} pf_forward;
typedef enum pf_pool_type { PF_POOL_DIR, _PF_POOL_TYPE_MAX } pf_pool_type;
typedef enum pf_domain_type { PF_DOMAIN_KVM, PF_DOMAIN_QEMU, _PF_DOMAIN_TYPE_MAX } pf_domain_type;
typedef enum pf_boot_dev { PF_BOOT_HD, PF_BOOT_NETWORK, PF_BOOT_CDROM, PF_BOOT_FD, _PF_BOOT_MAX } pf_boot_dev;
typedef enum pf_disk_format { PF_DISK_QCOW2, PF_DISK_RAW, _PF_DISK_FORMAT_MAX } pf_disk_format;
typedef enum pf_disk_bus { PF_BUS_VIRTIO, PF_BUS_SATA, PF_BUS_SCSI, PF_BUS_IDE, _PF_BUS_MAX } pf_disk_bus;
typedef enum pf_nic_model {
        PF_MODEL_VIRTIO, PF_MODEL_E1000, PF_MODEL_E1000E, PF_MODEL_NE2K_PCI, PF_MODEL_PCNET,
        PF_MODEL_RTL8139, _PF_MODEL_MAX
} pf_nic_model;
typedef enum pf_binding {
        PF_BINDING_NONE, PF_BINDING_BRIDGE, PF_BINDING_MACVTAP, PF_BINDING_MASQUERADE,
        PF_BINDING_SLIRP, PF_BINDING_SRIOV, _PF_BINDING_MAX
} pf_binding;
typedef enum pf_backend {
        PF_BACKEND_NONE, PF_BACKEND_POD, PF_BACKEND_MULTUS, PF_BACKEND_GENIE, PF_BACKEND_NETWORK,
        PF_BACKEND_HOST, PF_BACKEND_CONSTRAINTS, PF_BACKEND_MACVTAP, _PF_BACKEND_MAX
} pf_backend;
typedef enum pf_protocol { PF_PROTO_TCP, PF_PROTO_UDP, _PF_PROTO_MAX } pf_protocol;
typedef enum pf_constraint_type { PF_CTYPE_BRIDGE, PF_CTYPE_MACVLAN, _PF_CTYPE_MAX } pf_constraint_type;

/* ---- values ---- */
typedef struct pf_ip {
        uint8_t family;         /* AF_INET or AF_INET6 */
        uint8_t addr[16];       /* network byte order; IPv4 uses the first 4 bytes */
} pf_ip;
typedef struct pf_cidr { pf_ip ip; uint8_t prefix; } pf_cidr;
typedef struct pf_ip_range { pf_ip start; pf_loc start_loc; pf_ip end; pf_loc end_loc; pf_loc loc; } pf_ip_range;
typedef struct pf_mac { uint8_t b[6]; } pf_mac;
typedef struct pf_pci { uint16_t domain; uint8_t bus, slot, function; } pf_pci;
/* A name as written, with where: used for lists of names (ports, tags, interfaces). */
typedef struct pf_name { const char *name; pf_loc loc; } pf_name;
typedef struct pf_cidr_item { pf_cidr cidr; pf_loc loc; } pf_cidr_item;
typedef struct pf_label { const char *key, *value; pf_loc loc; } pf_label;

typedef PF_LIST(pf_name) pf_name_list;

/* ---- resources ---- */
typedef struct pf_meta {
        const char *name; pf_loc name_loc;
        const char *host; pf_loc host_loc;      /* NULL: applies to every host */
        PF_LIST(pf_label) labels; pf_loc labels_loc;
        const char *api_version; pf_loc api_version_loc;
        pf_loc loc;                             /* the document's top mapping */
        pf_loc kind_loc;
        bool load_failed;       /* its document had errors: checks across its fields skip it */
} pf_meta;

typedef struct pf_host {
        pf_meta meta;
        const char *connect; pf_loc connect_loc;
        pf_attach_policy attach_policy; pf_loc attach_policy_loc;
        pf_macvlan_mode default_macvlan_mode; pf_loc default_macvlan_mode_loc;
        const char *default_storage_pool; pf_loc default_storage_pool_loc;
        double overcommit_cpu; pf_loc overcommit_cpu_loc;
        double overcommit_memory; pf_loc overcommit_memory_loc;
        bool permit_bridge_on_pod_network; pf_loc permit_bridge_on_pod_network_loc;
        bool prune; pf_loc prune_loc;
        /* The range of podform's NAT network for the masquerade binding where libvirt has no
         * passt (KubeVirt's vmNetworkCIDR, host-wide since the host's VMs share that network). */
        pf_cidr vm_network_cidr; pf_loc vm_network_cidr_loc;
} pf_host;

typedef struct pf_subnet {
        pf_meta meta;
        pf_cidr cidr; pf_loc cidr_loc;
        unsigned vlan; pf_loc vlan_loc;
        const char *fabric; pf_loc fabric_loc;
        const char *space; pf_loc space_loc;
        pf_subnet_dhcp dhcp; pf_loc dhcp_loc;
        pf_ip gateway; pf_loc gateway_loc;
        PF_LIST(pf_ip_range) reserved; pf_loc reserved_loc;
        pf_name_list interfaces; pf_loc interfaces_loc;
} pf_subnet;

typedef struct pf_bridge {
        pf_meta meta;
        pf_name_list ports; pf_loc ports_loc;
        bool stp; pf_loc stp_loc;
        unsigned forward_delay; pf_loc forward_delay_loc;
        unsigned mtu; pf_loc mtu_loc;
        pf_mac mac_address; pf_loc mac_address_loc;
        PF_LIST(pf_cidr_item) addresses; pf_loc addresses_loc;
        pf_link_state state; pf_loc state_loc;
} pf_bridge;

/* Macvtap and Macvlan share a shape; `addresses` is accepted on Macvlan only. */
typedef struct pf_macvlan {
        pf_meta meta;
        pf_kind kind;           /* PF_KIND_MACVTAP or PF_KIND_MACVLAN */
        const char *parent; pf_loc parent_loc;
        pf_macvlan_mode mode; pf_loc mode_loc;
        pf_mac mac_address; pf_loc mac_address_loc;
        PF_LIST(pf_cidr_item) addresses; pf_loc addresses_loc;
        pf_link_state state; pf_loc state_loc;
} pf_macvlan;

typedef struct pf_vxlan {
        pf_meta meta;
        unsigned id; pf_loc id_loc;                     /* VNI */
        const char *parent; pf_loc parent_loc;          /* underlay link; NULL: none */
        pf_ip local; pf_loc local_loc;                  /* family 0: unset */
        pf_ip remote; pf_loc remote_loc;                /* unicast peer; family 0: unset */
        pf_ip group; pf_loc group_loc;                  /* multicast group; family 0: unset */
        unsigned dstport; pf_loc dstport_loc;           /* default 4789 */
        bool learning; pf_loc learning_loc;             /* default true */
        unsigned mtu; pf_loc mtu_loc;                   /* 0: the kernel's */
        pf_mac mac_address; pf_loc mac_address_loc;
        PF_LIST(pf_cidr_item) addresses; pf_loc addresses_loc;
        pf_link_state state; pf_loc state_loc;          /* default up */
} pf_vxlan;

typedef struct pf_dhcp_host {
        pf_mac mac; pf_loc mac_loc;
        pf_ip ip; pf_loc ip_loc;
        const char *name; pf_loc name_loc;
        pf_loc loc;
} pf_dhcp_host;

typedef struct pf_net_ip {
        pf_ip address; pf_loc address_loc;
        unsigned prefix; pf_loc prefix_loc;
        pf_loc dhcp_loc;                /* set: libvirt's dnsmasq serves DHCP here */
        PF_LIST(pf_ip_range) dhcp_ranges; pf_loc dhcp_ranges_loc;
        PF_LIST(pf_dhcp_host) dhcp_hosts; pf_loc dhcp_hosts_loc;
        const char *bootp_file; pf_loc bootp_file_loc;
        const char *bootp_server; pf_loc bootp_server_loc;      /* IP or hostname */
        pf_loc bootp_loc;
        pf_loc loc;
} pf_net_ip;

typedef struct pf_network {
        pf_meta meta;
        pf_forward forward; pf_loc forward_loc;
        pf_name_list interfaces; pf_loc interfaces_loc;
        const char *bridge_name; pf_loc bridge_name_loc;
        bool bridge_stp; pf_loc bridge_stp_loc;
        unsigned bridge_delay; pf_loc bridge_delay_loc;
        pf_loc bridge_loc;
        unsigned nat_port_start; pf_loc nat_port_start_loc;
        unsigned nat_port_end; pf_loc nat_port_end_loc;
        pf_loc nat_loc;
        const char *domain; pf_loc domain_loc;
        unsigned mtu; pf_loc mtu_loc;
        PF_LIST(pf_net_ip) ips; pf_loc ips_loc;
        bool autostart; pf_loc autostart_loc;
        bool active; pf_loc active_loc;
} pf_network;

typedef struct pf_pool {
        pf_meta meta;
        pf_pool_type type; pf_loc type_loc;
        const char *path; pf_loc path_loc;
        bool autostart; pf_loc autostart_loc;
} pf_pool;

typedef struct pf_disk {
        const char *name; pf_loc name_loc;
        uint64_t size; pf_loc size_loc;                 /* bytes; 0 with no size_loc: a volume backs it */
        const char *pool; pf_loc pool_loc;              /* NULL: Host.defaultStoragePool */
        pf_disk_format format; pf_loc format_loc;
        pf_disk_bus bus; pf_loc bus_loc;
        unsigned boot_order; pf_loc boot_order_loc;
        bool from_storage;                              /* written in the `storage:` shorthand */
        pf_loc loc;
} pf_disk;

typedef struct pf_port {
        const char *name; pf_loc name_loc;
        unsigned port; pf_loc port_loc;
        pf_protocol protocol; pf_loc protocol_loc;
        pf_loc loc;
} pf_port;

typedef struct pf_iface {
        const char *name; pf_loc name_loc;
        pf_binding binding; pf_loc binding_loc;
        pf_macvlan_mode macvtap_mode; pf_loc macvtap_mode_loc;  /* binding macvtap: {mode} */
        pf_nic_model model; pf_loc model_loc;
        pf_mac mac_address; pf_loc mac_address_loc;
        pf_pci pci_address; pf_loc pci_address_loc;
        unsigned boot_order; pf_loc boot_order_loc;
        PF_LIST(pf_port) ports; pf_loc ports_loc;
        const char *boot_file_name; pf_loc boot_file_name_loc;
        const char *tftp_server_name; pf_loc tftp_server_name_loc;
        bool implicit;          /* added by autoattachPodInterface */
        pf_loc loc;
} pf_iface;

typedef struct pf_vm_net {
        const char *name; pf_loc name_loc;
        pf_backend backend; pf_loc backend_loc;
        pf_cidr pod_vm_network_cidr; pf_loc pod_vm_network_cidr_loc;
        const char *network_name; pf_loc network_name_loc;    /* multus/genie networkName */
        bool multus_default; pf_loc multus_default_loc;
        const char *network; pf_loc network_loc;              /* backend `network: NAME` */
        const char *host_interface; pf_loc host_interface_loc;
        pf_pci host_pci; pf_loc host_pci_loc;
        const char *c_space; pf_loc c_space_loc;              /* constraints */
        const char *c_subnet; pf_loc c_subnet_loc;
        unsigned c_vlan; pf_loc c_vlan_loc;
        const char *c_fabric; pf_loc c_fabric_loc;
        pf_ip c_ip; pf_loc c_ip_loc;
        pf_macvlan_mode c_mode; pf_loc c_mode_loc;
        pf_constraint_type c_type; pf_loc c_type_loc;
        const char *macvtap; pf_loc macvtap_loc;              /* a Macvtap resource */
        pf_loc loc;
} pf_vm_net;

typedef struct pf_volume {
        const char *name; pf_loc name_loc;
        const char *user_data; pf_loc user_data_loc;
        const char *network_data; pf_loc network_data_loc;
        pf_loc cloud_init_loc;
        pf_loc loc;
} pf_volume;

typedef struct pf_boot { pf_boot_dev dev; pf_loc loc; } pf_boot;

typedef struct pf_vm {
        pf_meta meta;
        bool running; pf_loc running_loc;
        bool autostart; pf_loc autostart_loc;
        const char *pool; pf_loc pool_loc;
        pf_name_list tags; pf_loc tags_loc;
        pf_domain_type type; pf_loc type_loc;
        const char *arch; pf_loc arch_loc;
        const char *machine; pf_loc machine_loc;
        unsigned cores; pf_loc cores_loc;
        unsigned sockets; pf_loc sockets_loc;
        unsigned threads; pf_loc threads_loc;
        uint64_t memory; pf_loc memory_loc;
        PF_LIST(pf_boot) boot; pf_loc boot_loc;
        PF_LIST(pf_disk) disks; pf_loc disks_loc;
        PF_LIST(pf_iface) interfaces; pf_loc interfaces_loc;
        bool multiqueue; pf_loc multiqueue_loc;
        bool log_serial_console; pf_loc log_serial_console_loc;
        bool autoattach_pod_interface; pf_loc autoattach_pod_interface_loc;
        const char *storage; pf_loc storage_loc;
        PF_LIST(pf_vm_net) networks; pf_loc networks_loc;
        PF_LIST(pf_volume) volumes; pf_loc volumes_loc;
} pf_vm;

/* The whole configuration, one array per kind, in load order (file order, then document). */
typedef struct pf_model {
        PF_LIST(pf_host) hosts;
        PF_LIST(pf_subnet) subnets;
        PF_LIST(pf_bridge) bridges;
        PF_LIST(pf_macvlan) macvtaps;
        PF_LIST(pf_macvlan) macvlans;
        PF_LIST(pf_network) networks;
        PF_LIST(pf_pool) pools;
        PF_LIST(pf_vm) vms;
        PF_LIST(pf_vxlan) vxlans;
} pf_model;

/* pf_forward_own_bridge: libvirt creates the network's bridge (forward nat, route, open, none),
 * which is where its ips, DHCP and domain live; the other modes sit on host links. */
static inline bool pf_forward_own_bridge(pf_forward f) {
        return f == PF_FORWARD_NAT || f == PF_FORWARD_ROUTE || f == PF_FORWARD_OPEN || f == PF_FORWARD_NONE;
}

/* pf_net_is_pod: whether n is the pod network: `pod`, or multus with default: true (the
 * interface autoattachPodInterface adds comes with a `pod` network). */
static inline bool pf_net_is_pod(const pf_vm_net *n) {
        return n->backend == PF_BACKEND_POD || (n->backend == PF_BACKEND_MULTUS && n->multus_default);
}

/* pf_meta_compatible: whether two resources can meet on one host (either is unscoped, or both
 * name the same host). Duplicate names and references are only checked between such pairs. */
bool pf_meta_compatible(const pf_meta *a, const pf_meta *b);

/* pf_macvtap_mac: the MAC a Macvtap resource and the VM interface on it share: the Macvtap's
 * macAddress, else that of the interface that uses it (a macvtap passes only frames for its
 * own MAC, so the two must be one). NULL when neither declares one. `user_ret` (may be NULL)
 * receives the interface on the Macvtap, if any. */
const pf_mac *pf_macvtap_mac(const pf_model *m, const pf_macvlan *macvtap, const pf_iface **user_ret);
/* pf_iface_macvtap: the Macvtap resource interface `i` of `vm` sits on, or NULL. */
const pf_macvlan *pf_iface_macvtap(const pf_model *m, const pf_vm *vm, const pf_iface *i);
