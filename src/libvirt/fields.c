#include "config.h"
#include "libvirt/fields.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

#include "libvirt/render.h"
#include "util/arena.h"
#include "util/xalloc.h"
#include "util/cleanup.h"
#include "util/xml.h"

/* Every string read here lives in a scratch arena that the exported function frees on return:
 * values of any length, no fixed buffers to truncate into, one free. */

/* An attribute ("" when absent or n is NULL). */
static char *attr(pf_arena *t, xmlNodePtr n, const char *name) { return pf_xml_prop(t, n, name); }

/* s without its leading and trailing white space: where it starts, and *len. */
static const char *trim(const char *s, size_t *len) {
        while (isspace((unsigned char) *s))
                s++;
        *len = strlen(s);
        while (*len && isspace((unsigned char) s[*len - 1]))
                (*len)--;
        return s;
}

/* An element's text, trimmed: libvirt indents, renderers may not. */
static char *text(pf_arena *t, xmlNodePtr n) {
        xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
        size_t len;
        const char *s = trim(v ? (const char *) v : "", &len);
        char *out = pf_arena_strndup(t, s, len);
        xmlFree(v);
        return out;
}

static char *lower(char *s) {
        for (char *p = s; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return s;
}

/* `list` with `item` appended after a comma (none before the first). */
static const char *append(pf_arena *t, const char *list, const char *item) {
        return pf_arena_printf(t, "%s%s%s", list, *list ? "," : "", item);
}

/* The `attr_name` of every `name` child, comma-separated, in document order. */
static const char *join_children(pf_arena *t, xmlNodePtr parent, const char *name, const char *attr_name) {
        const char *list = "";
        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
                if (pf_xml_is(c, name))
                        list = append(t, list, attr(t, c, attr_name));
        return list;
}

/* ---- network ---- */

unsigned pf_lv_netmask_prefix(const char *mask) {
        unsigned a, b, c, d, bits = 0;
        if (sscanf(mask, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
                return 0;
        unsigned long m = ((unsigned long) a << 24) | (b << 16) | (c << 8) | d;
        while (m & 0x80000000ul) {
                bits++;
                m = (m << 1) & 0xfffffffful;
        }
        return bits;
}

/* The forward mode ("none" without <forward>), its devices, its NAT ports. */
static const char *forward_fields(pf_arena *t, xmlNodePtr root, pf_fields *b) {
        xmlNodePtr fwd = pf_xml_child(root, "forward");
        const char *mode = fwd ? attr(t, fwd, "mode") : "none";
        if (!*mode)
                mode = "nat";   /* <forward/> means NAT to libvirt */
        pf_field_add(b, PF_LAND_RECREATE, 0, mode, "forward");
        const char *devs = join_children(t, fwd, "interface", "dev");
        if (*devs)
                pf_field_add(b, PF_LAND_RECREATE, 0, devs, "forward.interfaces");
        xmlNodePtr port = pf_xml_child(pf_xml_child(fwd, "nat"), "port");
        if (port)
                pf_field_add(b, PF_LAND_RECREATE, 0,
                             pf_arena_printf(t, "%s-%s", attr(t, port, "start"), attr(t, port, "end")), "nat.ports");
        /* forward devices are host links the network sits on */
        for (xmlNodePtr i = fwd ? fwd->children : NULL; i; i = i->next) {
                const char *dev = pf_xml_is(i, "interface") ? attr(t, i, "dev") : "";
                if (*dev)
                        pf_need_link(b, dev);
        }
        return mode;
}

static void bridge_fields(pf_arena *t, xmlNodePtr root, const char *mode, pf_fields *b) {
        xmlNodePtr br = pf_xml_child(root, "bridge");
        const char *name = attr(t, br, "name");
        if (*name) {
                pf_field_add(b, PF_LAND_RECREATE, PF_FIELD_SPARSE, name, "bridge");
                if (!strcmp(mode, "bridge"))
                        pf_need_link(b, name);
        }
        bool own_bridge = !strcmp(mode, "nat") || !strcmp(mode, "route") || !strcmp(mode, "open") ||
                          !strcmp(mode, "none");
        if (own_bridge) {
                /* libvirt's defaults when the attributes are absent */
                const char *stp = attr(t, br, "stp"), *delay = attr(t, br, "delay");
                pf_field_add(b, PF_LAND_RECREATE, 0, *stp ? stp : "on", "bridge.stp");
                pf_field_add(b, PF_LAND_RECREATE, 0, *delay ? delay : "0", "bridge.delay");
        }
}

/* One <dhcp> child of the <ip> at `addr`: ranges and hosts land live, bootp does not. */
static void dhcp_entry_fields(pf_arena *t, xmlNodePtr c, const char *addr, pf_fields *b) {
        if (pf_xml_is(c, "range")) {
                pf_field_add(b, PF_LAND_LIVE, 0, lower(attr(t, c, "end")), "ip[%s].dhcp.range[%s]", addr,
                             lower(attr(t, c, "start")));
        } else if (pf_xml_is(c, "host")) {
                const char *mac = lower(attr(t, c, "mac")), *name = attr(t, c, "name");
                const char *ip = lower(attr(t, c, "ip"));
                pf_field_add(b, PF_LAND_LIVE, 0, pf_arena_printf(t, "ip=%s%s%s", ip, *name ? " name=" : "", name),
                             "ip[%s].dhcp.host[%s]", addr, *mac ? mac : name);
        } else if (pf_xml_is(c, "bootp")) {
                const char *file = attr(t, c, "file"), *server = attr(t, c, "server");
                pf_field_add(b, PF_LAND_RECREATE, 0,
                             pf_arena_printf(t, "file=%s%s%s", file, *server ? " server=" : "", server),
                             "ip[%s].dhcp.bootp", addr);
        }
}

static void ip_fields(pf_arena *t, xmlNodePtr ip, pf_fields *b) {
        const char *addr = lower(attr(t, ip, "address"));
        const char *prefix_text = attr(t, ip, "prefix"), *netmask = attr(t, ip, "netmask");
        unsigned prefix = (unsigned) atoi(prefix_text);
        if (!*prefix_text && *netmask)
                prefix = pf_lv_netmask_prefix(netmask);
        pf_field_add(b, PF_LAND_RECREATE, 0, pf_arena_printf(t, "%s/%u", addr, prefix), "ip[%s]", addr);
        xmlNodePtr dhcp = pf_xml_child(ip, "dhcp");
        if (!dhcp)
                return;
        pf_field_add(b, PF_LAND_RECREATE, 0, "on", "ip[%s].dhcp", addr);
        for (xmlNodePtr c = dhcp->children; c; c = c->next)
                dhcp_entry_fields(t, c, addr, b);
}

void pf_lv_network_fields(xmlDocPtr doc, pf_fields *b) {
        pf_arena t = { 0 };
        xmlNodePtr root = xmlDocGetRootElement(doc);
        const char *mode = forward_fields(&t, root, b);
        bridge_fields(&t, root, mode, b);
        const char *mtu = attr(&t, pf_xml_child(root, "mtu"), "size");
        if (*mtu)
                pf_field_add(b, PF_LAND_RECREATE, 0, mtu, "mtu");
        const char *domain = attr(&t, pf_xml_child(root, "domain"), "name");
        if (*domain)
                pf_field_add(b, PF_LAND_RECREATE, 0, domain, "domain");
        for (xmlNodePtr ip = root->children; ip; ip = ip->next)
                if (pf_xml_is(ip, "ip"))
                        ip_fields(&t, ip, b);
        pf_arena_free(&t);
}

/* ---- storage ---- */

/* A path as libvirt stores it: no repeated or trailing slashes. */
static char *clean_path(char *p) {
        char *out = p;
        for (const char *in = p; *in; in++)
                if (!(*in == '/' && out > p && out[-1] == '/'))
                        *out++ = *in;
        while (out > p + 1 && out[-1] == '/')
                out--;
        *out = '\0';
        return p;
}

/* A pool is never moved or retyped: its volumes would vanish from libvirt's view and the VMs
 * would get new, empty disks. */
void pf_lv_pool_fields(xmlDocPtr doc, pf_fields *b) {
        pf_arena t = { 0 };
        xmlNodePtr root = xmlDocGetRootElement(doc);
        pf_field_add(b, PF_LAND_RECREATE, PF_FIELD_IMMUTABLE, attr(&t, root, "type"), "type");
        pf_field_add(b, PF_LAND_RECREATE, PF_FIELD_IMMUTABLE,
                     clean_path(text(&t, pf_xml_child(pf_xml_child(root, "target"), "path"))), "path");
        pf_arena_free(&t);
}

unsigned long long pf_lv_unit_scale(const char *unit) {
        static const struct { const char *u; unsigned long long m; } units[] = {
                { "", 1 }, { "b", 1 }, { "bytes", 1 }, { "KB", 1000ull }, { "k", 1024ull }, { "KiB", 1024ull },
                { "MB", 1000000ull }, { "M", 1ull << 20 }, { "MiB", 1ull << 20 }, { "GB", 1000000000ull },
                { "G", 1ull << 30 }, { "GiB", 1ull << 30 }, { "TB", 1000000000000ull }, { "T", 1ull << 40 },
                { "TiB", 1ull << 40 },
        };
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (!strcmp(unit, units[i].u))
                        return units[i].m;
        return 1;
}

void pf_lv_volume_fields(xmlDocPtr doc, const char *pool, pf_fields *b) {
        pf_arena t = { 0 };
        xmlNodePtr root = xmlDocGetRootElement(doc);
        xmlNodePtr cap = pf_xml_child(root, "capacity");
        unsigned long long bytes = strtoull(text(&t, cap), NULL, 10) * pf_lv_unit_scale(attr(&t, cap, "unit"));
        pf_field_add(b, PF_LAND_LIVE, PF_FIELD_GROW_ONLY, pf_arena_printf(&t, "%llu", bytes), "capacity");
        const char *format = attr(&t, pf_xml_child(pf_xml_child(root, "target"), "format"), "type");
        pf_field_add(b, PF_LAND_LIVE, PF_FIELD_IMMUTABLE, *format ? format : "raw", "format");
        pf_need_add(b, PF_R_POOL, pool);
        pf_arena_free(&t);
}

/* ---- domain ---- */

xmlNodePtr pf_lv_domain_metadata(xmlDocPtr doc) {
        xmlNodePtr md = pf_xml_child(xmlDocGetRootElement(doc), "metadata");
        for (xmlNodePtr c = md ? md->children : NULL; c; c = c->next)
                if (c->type == XML_ELEMENT_NODE && c->ns && xmlStrcmp(c->ns->href, BAD_CAST PF_XMLNS) == 0 &&
                    xmlStrcmp(c->name, BAD_CAST "vm") == 0)
                        return c;
        return NULL;
}

xmlNodePtr pf_lv_domain_record(xmlDocPtr doc) {
        xmlNodePtr vm = doc ? pf_lv_domain_metadata(doc) : NULL;
        if (!vm)
                return NULL;
        /* called per interface: no arena here, only the two strings compared */
        xmlChar *recorded = xmlGetProp(vm, BAD_CAST "name");
        xmlChar *name = xmlNodeGetContent(pf_xml_child(xmlDocGetRootElement(doc), "name"));
        const char *r = recorded ? (const char *) recorded : "";
        size_t len;
        const char *s = trim(name ? (const char *) name : "", &len);
        bool mine = strlen(r) == len && !strncmp(r, s, len);
        xmlFree(recorded);
        xmlFree(name);
        return mine ? vm : NULL;
}

/* The interface name recorded for `mac` in a document's own podform record, or NULL. */
static const char *recorded_name(pf_arena *t, xmlDocPtr doc, const char *mac) {
        xmlNodePtr vm = pf_lv_domain_record(doc);
        for (xmlNodePtr c = vm ? vm->children : NULL; c; c = c->next)
                if (pf_xml_is(c, "interface") && !strcmp(lower(attr(t, c, "mac")), mac)) {
                        const char *name = attr(t, c, "name");
                        return *name ? name : NULL;
                }
        return NULL;
}

const char *pf_lv_pci_text(pf_arena *t, xmlNodePtr addr) {
        unsigned long d = strtoul(attr(t, addr, "domain"), NULL, 0), bus = strtoul(attr(t, addr, "bus"), NULL, 0),
                      slot = strtoul(attr(t, addr, "slot"), NULL, 0),
                      fn = strtoul(attr(t, addr, "function"), NULL, 0);
        return pf_arena_printf(t, "%04lx:%02lx:%02lx.%lx", d, bus, slot, fn);
}

/* Where a NIC is: its type as podform compares it and its source. A running NIC on a libvirt
 * network shows the network's own type (forward: bridge gives <interface type='bridge'><source
 * network='N' bridge='B'/>): it is on network N all the same. */
static const char *nic_source(pf_arena *t, xmlNodePtr nic, const char **type) {
        xmlNodePtr s = pf_xml_child(nic, "source");
        const char *network = attr(t, s, "network");
        if (*network)
                *type = "network";
        if (!strcmp(*type, "network"))
                return network;
        if (!strcmp(*type, "bridge"))
                return attr(t, s, "bridge");
        if (!strcmp(*type, "direct")) {
                const char *mode = attr(t, s, "mode");
                return pf_arena_printf(t, "%s mode=%s", attr(t, s, "dev"), *mode ? mode : "vepa");
        }
        if (!strcmp(*type, "ethernet"))
                return attr(t, pf_xml_child(nic, "target"), "dev");
        if (!strcmp(*type, "user"))
                return !strcmp(attr(t, pf_xml_child(nic, "backend"), "type"), "passt") ? "passt" : "slirp";
        if (!strcmp(*type, "hostdev"))
                return pf_lv_pci_text(t, pf_xml_child(s, "address"));
        return "";
}

/* The forwarded ports of a user-mode NIC: "tcp/2222,udp/53". */
static const char *nic_ports(pf_arena *t, xmlNodePtr nic) {
        const char *ports = "";
        for (xmlNodePtr c = nic->children; c; c = c->next) {
                if (!pf_xml_is(c, "portForward"))
                        continue;
                const char *proto = attr(t, c, "proto");
                for (xmlNodePtr r = c->children; r; r = r->next)
                        if (pf_xml_is(r, "range"))
                                ports = append(t, ports, pf_arena_printf(t, "%s/%s", proto, attr(t, r, "start")));
        }
        return ports;
}

static void interface_fields(pf_arena *t, xmlNodePtr nic, xmlDocPtr doc, xmlDocPtr names, pf_fields *b) {
        const char *type = attr(t, nic, "type");
        const char *mac = lower(attr(t, pf_xml_child(nic, "mac"), "address"));
        unsigned flags = PF_FIELD_HOTPLUG;
        const char *name = recorded_name(t, doc, mac);
        if (!name)
                name = recorded_name(t, names, mac);
        if (!name) {
                /* not ours: shown if asked, never changed */
                name = pf_arena_printf(t, "mac %s", mac);
                flags |= PF_FIELD_SPARSE;
        }
        const char *src = nic_source(t, nic, &type);
        pf_field_add(b, PF_LAND_RESTART, flags, type, "iface[%s].type", name);
        /* QEMU moves a tap to another bridge or network in place (update-device) */
        bool movable = !strcmp(type, "network") || !strcmp(type, "bridge");
        pf_field_add(b, movable ? PF_LAND_LIVE : PF_LAND_RESTART, flags, src, "iface[%s].source", name);
        pf_field_add(b, PF_LAND_RESTART, flags, mac, "iface[%s].mac", name);
        const char *model = attr(t, pf_xml_child(nic, "model"), "type");
        if (*model)
                pf_field_add(b, PF_LAND_RESTART, flags, model, "iface[%s].model", name);
        const char *queues = attr(t, pf_xml_child(nic, "driver"), "queues");
        if (*queues)
                pf_field_add(b, PF_LAND_RESTART, flags, queues, "iface[%s].queues", name);
        xmlNodePtr addr = pf_xml_child(nic, "address");
        if (addr && !strcmp(attr(t, addr, "type"), "pci"))
                pf_field_add(b, PF_LAND_RESTART, flags | PF_FIELD_SPARSE, pf_lv_pci_text(t, addr), "iface[%s].pci", name);
        const char *boot = attr(t, pf_xml_child(nic, "boot"), "order");
        if (*boot)
                pf_field_add(b, PF_LAND_RESTART, flags, boot, "iface[%s].boot", name);
        const char *ports = nic_ports(t, nic);
        if (*ports)
                pf_field_add(b, PF_LAND_RESTART, flags, ports, "iface[%s].ports", name);
        /* someone else's NIC uses the network or link all the same: prune must see it */
        if (!strcmp(type, "network"))
                pf_need_add(b, PF_R_NETWORK, src);
        else if (!strcmp(type, "bridge") || !strcmp(type, "ethernet"))
                pf_need_link(b, src);
        else if (!strcmp(type, "direct"))
                pf_need_link(b, attr(t, pf_xml_child(nic, "source"), "dev"));
}

static void disk_fields(pf_arena *t, xmlNodePtr disk, pf_fields *b) {
        xmlNodePtr s = pf_xml_child(disk, "source");
        xmlNodePtr target = pf_xml_child(disk, "target");
        const char *dev = attr(t, target, "dev"), *type = attr(t, disk, "type");
        if (strcmp(type, "volume") != 0) {
                /* a disk podform does not create (a CD-ROM, a file added by hand) */
                pf_field_add(b, PF_LAND_RESTART, PF_FIELD_SPARSE, type, "disk[%s]", dev);
                return;
        }
        const char *id = pf_arena_printf(t, "%s/%s", attr(t, s, "pool"), attr(t, s, "volume"));
        pf_field_add(b, PF_LAND_RESTART, 0,
                     pf_arena_printf(t, "dev=%s bus=%s format=%s", dev, attr(t, target, "bus"),
                                     attr(t, pf_xml_child(disk, "driver"), "type")),
                     "disk[%s]", id);
        const char *boot = attr(t, pf_xml_child(disk, "boot"), "order");
        if (*boot)
                pf_field_add(b, PF_LAND_RESTART, 0, boot, "disk[%s].boot", id);
        pf_need_add(b, PF_R_VOLUME, id);
}

/* Type, arch, machine, CPUs, memory and boot order: the machine itself, not its devices. */
static void machine_fields(pf_arena *t, xmlNodePtr root, pf_canon_machine_fn *canon, void *ud, pf_fields *b) {
        pf_field_add(b, PF_LAND_RESTART, 0, attr(t, root, "type"), "type");
        xmlNodePtr os = pf_xml_child(root, "os");
        xmlNodePtr ostype = pf_xml_child(os, "type");
        const char *arch = attr(t, ostype, "arch"), *machine = attr(t, ostype, "machine");
        pf_field_add(b, PF_LAND_RESTART, 0, arch, "arch");
        if (*machine)
                pf_field_add(b, PF_LAND_RESTART, PF_FIELD_SPARSE, canon ? canon(ud, arch, machine) : machine, "machine");
        pf_field_add(b, PF_LAND_RESTART, 0, text(t, pf_xml_child(root, "vcpu")), "vcpus");
        xmlNodePtr topo = pf_xml_child(pf_xml_child(root, "cpu"), "topology");
        if (topo)
                pf_field_add(b, PF_LAND_RESTART, PF_FIELD_SPARSE,
                             pf_arena_printf(t, "sockets=%s cores=%s threads=%s", attr(t, topo, "sockets"),
                                             attr(t, topo, "cores"), attr(t, topo, "threads")),
                             "cpu.topology");
        xmlNodePtr mem = pf_xml_child(root, "memory");
        const char *unit = attr(t, mem, "unit");
        unsigned long long bytes = strtoull(text(t, mem), NULL, 10) * pf_lv_unit_scale(*unit ? unit : "KiB");
        pf_field_add(b, PF_LAND_RESTART, 0, pf_arena_printf(t, "%llu KiB", bytes / 1024), "memory");
        const char *boot = join_children(t, os, "boot", "dev");
        if (*boot)
                pf_field_add(b, PF_LAND_RESTART, 0, boot, "boot");
}

void pf_lv_domain_fields(xmlDocPtr doc, xmlDocPtr names, pf_canon_machine_fn *canon, void *ud, pf_fields *b) {
        pf_arena t = { 0 };
        xmlNodePtr root = xmlDocGetRootElement(doc);
        machine_fields(&t, root, canon, ud, b);
        xmlNodePtr devices = pf_xml_child(root, "devices");
        bool serial = false;
        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                if (pf_xml_is(d, "interface"))
                        interface_fields(&t, d, doc, names, b);
                else if (pf_xml_is(d, "disk") && !strcmp(attr(&t, d, "device"), "disk"))
                        disk_fields(&t, d, b);
                else if (pf_xml_is(d, "serial") && !serial) {
                        serial = true;
                        pf_field_add(b, PF_LAND_RESTART, 0, attr(&t, d, "type"), "serial");
                        const char *log = attr(&t, pf_xml_child(d, "log"), "file");
                        if (*log)
                                pf_field_add(b, PF_LAND_RESTART, 0, log, "serial.log");
                }
        }
        pf_arena_free(&t);
}

char *pf_lv_serial_log_path(const char *vm) {
        return pf_xasprintf("/var/log/libvirt/qemu/%s-serial0.log", vm);
}

bool pf_lv_disk_is_vms_volume(xmlNodePtr disk, const char *vm) {
        xmlNodePtr src = pf_xml_child(disk, "source");
        _cleanup_xml_char_ xmlChar *vol = src ? xmlGetProp(src, BAD_CAST "volume") : NULL;
        size_t n = strlen(vm);
        return pf_xml_prop_eq(disk, "type", "volume") && pf_xml_prop_eq(disk, "device", "disk") && vol &&
               !strncmp((const char *) vol, vm, n) && vol[n] == '-';
}

bool pf_lv_disk_dev_taken(xmlDocPtr doc, const char *vm, const char *dev) {
        xmlNodePtr devices = pf_xml_child(doc ? xmlDocGetRootElement(doc) : NULL, "devices");
        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                xmlNodePtr target = pf_xml_child(d, "target");
                if (pf_xml_is(d, "disk") && target && !pf_lv_disk_is_vms_volume(d, vm)) {
                        _cleanup_xml_char_ xmlChar *t = xmlGetProp(target, BAD_CAST "dev");
                        if (t && !strcmp((const char *) t, dev))
                                return true;
                }
        }
        return false;
}

/* The live device of the recorded interface `mac`: its type and source. */
static void recorded_device(pf_arena *t, xmlNodePtr devices, const char *mac, const char **type, const char **src) {
        *type = *src = "";
        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                if (!pf_xml_is(d, "interface") || strcmp(lower(attr(t, pf_xml_child(d, "mac"), "address")), mac))
                        continue;
                xmlNodePtr s = pf_xml_child(d, "source");
                *type = attr(t, d, "type");
                const char *network = attr(t, s, "network");
                if (*network) {
                        *type = "network";
                        *src = network;
                } else if (!strcmp(*type, "bridge"))
                        *src = attr(t, s, "bridge");
                else if (!strcmp(*type, "direct"))
                        *src = attr(t, s, "dev");
                return;
        }
}

void pf_lv_domain_nics(xmlDocPtr doc, pf_nic_fn *fn, void *ud) {
        xmlNodePtr vm = pf_lv_domain_record(doc);
        if (!vm)
                return;
        pf_arena t = { 0 };
        xmlNodePtr devices = pf_xml_child(xmlDocGetRootElement(doc), "devices");
        for (xmlNodePtr r = vm->children; r; r = r->next) {
                const char *name = pf_xml_is(r, "interface") ? attr(&t, r, "name") : "";
                if (!*name)
                        continue;
                const char *ip = attr(&t, r, "ip"), *type, *src;
                recorded_device(&t, devices, lower(attr(&t, r, "mac")), &type, &src);
                fn(ud, name, *type ? type : NULL, *src ? src : NULL, *ip ? ip : NULL);
        }
        pf_arena_free(&t);
}

void pf_lv_domain_record_fields(xmlDocPtr doc, pf_fields *b) {
        xmlNodePtr vm = pf_lv_domain_record(doc);
        if (!vm)
                return;
        pf_arena t = { 0 };
        for (xmlNodePtr c = vm->children; c; c = c->next) {
                if (!pf_xml_is(c, "interface"))
                        continue;
                const char *ip = attr(&t, c, "ip"), *name = attr(&t, c, "name");
                if (*ip && *name)
                        pf_field_add(b, PF_LAND_LIVE, 0, ip, "ip[%s]", name);
        }
        pf_arena_free(&t);
}
