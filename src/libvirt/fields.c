#include "config.h"
#include "libvirt/fields.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

#include "libvirt/render.h"
#include "util/xalloc.h"
#include "util/xml.h"

/* An attribute, copied into a bounded buffer ("" when absent). */
static const char *attr(xmlNodePtr n, const char *name, char *buf, size_t size) {
        buf[0] = '\0';
        if (!n)
                return buf;
        xmlChar *v = xmlGetProp(n, BAD_CAST name);
        if (v) {
                snprintf(buf, size, "%s", (const char *) v);
                xmlFree(v);
        }
        return buf;
}

static const char *text(xmlNodePtr n, char *buf, size_t size) {
        buf[0] = '\0';
        if (!n)
                return buf;
        xmlChar *v = xmlNodeGetContent(n);
        if (v) {
                /* trim: libvirt indents, renderers may not */
                const char *s = (const char *) v;
                while (isspace((unsigned char) *s))
                        s++;
                size_t len = strlen(s);
                while (len && isspace((unsigned char) s[len - 1]))
                        len--;
                snprintf(buf, size, "%.*s", (int) len, s);
                xmlFree(v);
        }
        return buf;
}

static void lower(char *s) {
        for (; *s; s++)
                *s = (char) tolower((unsigned char) *s);
}

enum { V = 4096 };

/* The `attr` of every `name` child, comma-separated, in document order. */
static const char *join_children(xmlNodePtr parent, const char *name, const char *attr_name, char *buf, size_t size) {
        char v[V];
        size_t len = 0;
        buf[0] = '\0';
        for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
                if (pf_xml_is(c, name) && len < size) {
                        int n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", attr(c, attr_name, v, sizeof(v)));
                        len += n > 0 ? (size_t) n : 0;
                }
        return buf;
}      /* longest value we read: names, paths (PATH_MAX), addresses */

/* ---- network ---- */

static unsigned netmask_prefix(const char *mask) {
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

void pf_lv_network_fields(xmlDocPtr doc, pf_fields *b) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        char v[V], w[V], key[V];
        xmlNodePtr fwd = pf_xml_child(root, "forward");
        const char *mode = fwd ? attr(fwd, "mode", v, sizeof(v)) : "none";
        if (!*mode)
                mode = "nat";   /* <forward/> means NAT to libvirt */
        char mode_buf[32];
        snprintf(mode_buf, sizeof(mode_buf), "%s", mode);
        pf_field_add(b, PF_LAND_RECREATE, 0, mode_buf, "forward");

        char devs[8192];
        if (*join_children(fwd, "interface", "dev", devs, sizeof(devs)))
                pf_field_add(b, PF_LAND_RECREATE, 0, devs, "forward.interfaces");
        xmlNodePtr port = pf_xml_child(pf_xml_child(fwd, "nat"), "port");
        if (port) {
                snprintf(key, sizeof(key), "%s-%s", attr(port, "start", v, sizeof(v)), attr(port, "end", w, sizeof(w)));
                pf_field_add(b, PF_LAND_RECREATE, 0, key, "nat.ports");
        }

        /* forward devices are host links the network sits on */
        for (xmlNodePtr i = fwd ? fwd->children : NULL; i; i = i->next)
                if (pf_xml_is(i, "interface") && *attr(i, "dev", v, sizeof(v)))
                        pf_need_link(b, v);
        xmlNodePtr br = pf_xml_child(root, "bridge");
        if (br && *attr(br, "name", v, sizeof(v))) {
                pf_field_add(b, PF_LAND_RECREATE, PF_FIELD_SPARSE, v, "bridge");
                if (!strcmp(mode_buf, "bridge"))
                        pf_need_link(b, v);
        }
        bool own_bridge = !strcmp(mode_buf, "nat") || !strcmp(mode_buf, "route") || !strcmp(mode_buf, "open") ||
                          !strcmp(mode_buf, "none");
        if (own_bridge) {
                /* libvirt's defaults when the attributes are absent */
                attr(br, "stp", v, sizeof(v));
                pf_field_add(b, PF_LAND_RECREATE, 0, *v ? v : "on", "bridge.stp");
                attr(br, "delay", v, sizeof(v));
                pf_field_add(b, PF_LAND_RECREATE, 0, *v ? v : "0", "bridge.delay");
        }
        if (*attr(pf_xml_child(root, "mtu"), "size", v, sizeof(v)))
                pf_field_add(b, PF_LAND_RECREATE, 0, v, "mtu");
        if (*attr(pf_xml_child(root, "domain"), "name", v, sizeof(v)))
                pf_field_add(b, PF_LAND_RECREATE, 0, v, "domain");

        for (xmlNodePtr ip = root->children; ip; ip = ip->next) {
                if (!pf_xml_is(ip, "ip"))
                        continue;
                char addr[V];
                attr(ip, "address", addr, sizeof(addr));
                lower(addr);
                unsigned prefix = (unsigned) atoi(attr(ip, "prefix", v, sizeof(v)));
                if (!*v && *attr(ip, "netmask", v, sizeof(v)))
                        prefix = netmask_prefix(v);
                snprintf(key, sizeof(key), "%s/%u", addr, prefix);
                pf_field_add(b, PF_LAND_RECREATE, 0, key, "ip[%s]", addr);
                xmlNodePtr dhcp = pf_xml_child(ip, "dhcp");
                if (!dhcp)
                        continue;
                pf_field_add(b, PF_LAND_RECREATE, 0, "on", "ip[%s].dhcp", addr);
                for (xmlNodePtr c = dhcp->children; c; c = c->next) {
                        if (pf_xml_is(c, "range")) {
                                attr(c, "start", v, sizeof(v));
                                attr(c, "end", w, sizeof(w));
                                lower(v);
                                lower(w);
                                pf_field_add(b, PF_LAND_LIVE, 0, w, "ip[%s].dhcp.range[%s]", addr, v);
                        } else if (pf_xml_is(c, "host")) {
                                char mac[V], name[V], hip[V];
                                attr(c, "mac", mac, sizeof(mac));
                                lower(mac);
                                attr(c, "name", name, sizeof(name));
                                attr(c, "ip", hip, sizeof(hip));
                                lower(hip);
                                snprintf(key, sizeof(key), "ip=%s%s%s", hip, *name ? " name=" : "", name);
                                pf_field_add(b, PF_LAND_LIVE, 0, key, "ip[%s].dhcp.host[%s]", addr, *mac ? mac : name);
                        } else if (pf_xml_is(c, "bootp")) {
                                attr(c, "file", v, sizeof(v));
                                attr(c, "server", w, sizeof(w));
                                snprintf(key, sizeof(key), "file=%s%s%s", v, *w ? " server=" : "", w);
                                pf_field_add(b, PF_LAND_RECREATE, 0, key, "ip[%s].dhcp.bootp", addr);
                        }
                }
        }
}

/* ---- storage ---- */

/* A path as libvirt stores it: no repeated or trailing slashes. */
static void clean_path(char *p) {
        char *out = p;
        for (const char *in = p; *in; in++)
                if (!(*in == '/' && out > p && out[-1] == '/'))
                        *out++ = *in;
        while (out > p + 1 && out[-1] == '/')
                out--;
        *out = '\0';
}

/* A pool is never moved or retyped: its volumes would vanish from libvirt's view and the VMs
 * would get new, empty disks. */
void pf_lv_pool_fields(xmlDocPtr doc, pf_fields *b) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        char v[V];
        pf_field_add(b, PF_LAND_RECREATE, PF_FIELD_IMMUTABLE, attr(root, "type", v, sizeof(v)), "type");
        text(pf_xml_child(pf_xml_child(root, "target"), "path"), v, sizeof(v));
        clean_path(v);
        pf_field_add(b, PF_LAND_RECREATE, PF_FIELD_IMMUTABLE, v, "path");
}

static unsigned long long scale(const char *unit) {
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
        xmlNodePtr root = xmlDocGetRootElement(doc);
        char v[V], u[V];
        xmlNodePtr cap = pf_xml_child(root, "capacity");
        unsigned long long bytes = strtoull(text(cap, v, sizeof(v)), NULL, 10) * scale(attr(cap, "unit", u, sizeof(u)));
        snprintf(v, sizeof(v), "%llu", bytes);
        pf_field_add(b, PF_LAND_LIVE, PF_FIELD_GROW_ONLY, v, "capacity");
        attr(pf_xml_child(pf_xml_child(root, "target"), "format"), "type", v, sizeof(v));
        pf_field_add(b, PF_LAND_LIVE, PF_FIELD_IMMUTABLE, *v ? v : "raw", "format");
        pf_need_add(b, PF_R_POOL, pool);
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
        char name[V], dom[V];
        if (vm && strcmp(attr(vm, "name", name, sizeof(name)), text(pf_xml_child(xmlDocGetRootElement(doc), "name"), dom, sizeof(dom))))
                return NULL;
        return vm;
}

/* The interface name recorded for `mac` in a document's own podform record. */
static bool recorded_name(xmlDocPtr doc, const char *mac, char *buf, size_t size) {
        xmlNodePtr vm = pf_lv_domain_record(doc);
        char m[V];
        for (xmlNodePtr c = vm ? vm->children : NULL; c; c = c->next)
                if (pf_xml_is(c, "interface")) {
                        attr(c, "mac", m, sizeof(m));
                        lower(m);
                        if (!strcmp(m, mac)) {
                                attr(c, "name", buf, size);
                                return *buf != '\0';
                        }
                }
        return false;
}

static void pci_text(xmlNodePtr addr, char *buf, size_t size) {
        char d[32], bus[32], s[32], f[32];
        unsigned long dv = strtoul(attr(addr, "domain", d, sizeof(d)), NULL, 0),
                      bv = strtoul(attr(addr, "bus", bus, sizeof(bus)), NULL, 0),
                      sv = strtoul(attr(addr, "slot", s, sizeof(s)), NULL, 0),
                      fv = strtoul(attr(addr, "function", f, sizeof(f)), NULL, 0);
        snprintf(buf, size, "%04lx:%02lx:%02lx.%lx", dv, bv, sv, fv);
}

static void interface_fields(xmlNodePtr nic, xmlDocPtr doc, xmlDocPtr names, pf_fields *b) {
        char type[V], mac[V], name[V], v[V], w[V], src[2 * V];
        attr(nic, "type", type, sizeof(type));
        attr(pf_xml_child(nic, "mac"), "address", mac, sizeof(mac));
        lower(mac);
        unsigned flags = PF_FIELD_HOTPLUG;
        if (!recorded_name(doc, mac, name, sizeof(name)) && !recorded_name(names, mac, name, sizeof(name))) {
                /* not ours: shown if asked, never changed */
                snprintf(name, sizeof(name), "mac %s", mac);
                flags |= PF_FIELD_SPARSE;
        }
        xmlNodePtr s = pf_xml_child(nic, "source");
        src[0] = '\0';
        /* a running NIC on a libvirt network shows the network's own type (forward: bridge gives
         * <interface type='bridge'><source network='N' bridge='B'/>): it is on network N all the same */
        if (*attr(s, "network", v, sizeof(v)))
                snprintf(type, sizeof(type), "network");
        if (!strcmp(type, "network"))
                snprintf(src, sizeof(src), "%s", attr(s, "network", v, sizeof(v)));
        else if (!strcmp(type, "bridge"))
                snprintf(src, sizeof(src), "%s", attr(s, "bridge", v, sizeof(v)));
        else if (!strcmp(type, "direct"))
                snprintf(src, sizeof(src), "%s mode=%s", attr(s, "dev", v, sizeof(v)),
                         *attr(s, "mode", w, sizeof(w)) ? w : "vepa");
        else if (!strcmp(type, "ethernet"))
                snprintf(src, sizeof(src), "%s", attr(pf_xml_child(nic, "target"), "dev", v, sizeof(v)));
        else if (!strcmp(type, "user"))
                snprintf(src, sizeof(src), "%s", !strcmp(attr(pf_xml_child(nic, "backend"), "type", v, sizeof(v)), "passt") ? "passt" : "slirp");
        else if (!strcmp(type, "hostdev"))
                pci_text(pf_xml_child(s, "address"), src, sizeof(src));
        pf_field_add(b, PF_LAND_RESTART, flags, type, "iface[%s].type", name);
        /* QEMU moves a tap to another bridge or network in place (update-device) */
        bool movable = !strcmp(type, "network") || !strcmp(type, "bridge");
        pf_field_add(b, movable ? PF_LAND_LIVE : PF_LAND_RESTART, flags, src, "iface[%s].source", name);
        pf_field_add(b, PF_LAND_RESTART, flags, mac, "iface[%s].mac", name);
        if (*attr(pf_xml_child(nic, "model"), "type", v, sizeof(v)))
                pf_field_add(b, PF_LAND_RESTART, flags, v, "iface[%s].model", name);
        if (*attr(pf_xml_child(nic, "driver"), "queues", v, sizeof(v)))
                pf_field_add(b, PF_LAND_RESTART, flags, v, "iface[%s].queues", name);
        xmlNodePtr addr = pf_xml_child(nic, "address");
        if (addr && !strcmp(attr(addr, "type", v, sizeof(v)), "pci")) {
                pci_text(addr, v, sizeof(v));
                pf_field_add(b, PF_LAND_RESTART, flags | PF_FIELD_SPARSE, v, "iface[%s].pci", name);
        }
        if (*attr(pf_xml_child(nic, "boot"), "order", v, sizeof(v)))
                pf_field_add(b, PF_LAND_RESTART, flags, v, "iface[%s].boot", name);
        char ports[16384] = "";
        for (xmlNodePtr c = nic->children; c; c = c->next)
                if (pf_xml_is(c, "portForward")) {
                        attr(c, "proto", v, sizeof(v));
                        for (xmlNodePtr r = c->children; r; r = r->next)
                                if (pf_xml_is(r, "range")) {
                                        size_t len = strlen(ports);
                                        snprintf(ports + len, sizeof(ports) - len, "%s%s/%s", len ? "," : "", v,
                                                 attr(r, "start", w, sizeof(w)));
                                }
                }
        if (*ports)
                pf_field_add(b, PF_LAND_RESTART, flags, ports, "iface[%s].ports", name);
        /* someone else's NIC uses the network or link all the same: prune must see it */
        if (!strcmp(type, "network"))
                pf_need_add(b, PF_R_NETWORK, src);
        else if (!strcmp(type, "bridge") || !strcmp(type, "ethernet"))
                pf_need_link(b, src);
        else if (!strcmp(type, "direct"))
                pf_need_link(b, attr(s, "dev", v, sizeof(v)));
}

static void disk_fields(xmlNodePtr disk, pf_fields *b) {
        char v[V], w[V], id[2 * V + 1], val[3 * V];
        xmlNodePtr s = pf_xml_child(disk, "source");
        xmlNodePtr t = pf_xml_child(disk, "target");
        attr(t, "dev", w, sizeof(w));
        if (strcmp(attr(disk, "type", v, sizeof(v)), "volume") != 0) {
                /* a disk podform does not create (a CD-ROM, a file added by hand) */
                pf_field_add(b, PF_LAND_RESTART, PF_FIELD_SPARSE, v, "disk[%s]", w);
                return;
        }
        char pool[V], vol[V];
        attr(s, "pool", pool, sizeof(pool));
        attr(s, "volume", vol, sizeof(vol));
        snprintf(id, sizeof(id), "%s/%s", pool, vol);
        snprintf(val, sizeof(val), "dev=%s bus=%s format=%s", w, attr(t, "bus", v, sizeof(v)),
                 attr(pf_xml_child(disk, "driver"), "type", pool, sizeof(pool)));
        pf_field_add(b, PF_LAND_RESTART, 0, val, "disk[%s]", id);
        if (*attr(pf_xml_child(disk, "boot"), "order", v, sizeof(v)))
                pf_field_add(b, PF_LAND_RESTART, 0, v, "disk[%s].boot", id);
        pf_need_add(b, PF_R_VOLUME, id);
}

void pf_lv_domain_fields(xmlDocPtr doc, xmlDocPtr names, pf_canon_machine_fn *canon, void *ud, pf_fields *b) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        char v[V], arch[V], u[V];
        pf_field_add(b, PF_LAND_RESTART, 0, attr(root, "type", v, sizeof(v)), "type");
        xmlNodePtr os = pf_xml_child(root, "os");
        xmlNodePtr ostype = pf_xml_child(os, "type");
        pf_field_add(b, PF_LAND_RESTART, 0, attr(ostype, "arch", arch, sizeof(arch)), "arch");
        if (*attr(ostype, "machine", v, sizeof(v)))
                pf_field_add(b, PF_LAND_RESTART, PF_FIELD_SPARSE, canon ? canon(ud, arch, v) : v, "machine");
        pf_field_add(b, PF_LAND_RESTART, 0, text(pf_xml_child(root, "vcpu"), v, sizeof(v)), "vcpus");
        xmlNodePtr topo = pf_xml_child(pf_xml_child(root, "cpu"), "topology");
        if (topo) {
                char s[32], c[32], t[32];
                snprintf(v, sizeof(v), "sockets=%s cores=%s threads=%s", attr(topo, "sockets", s, sizeof(s)),
                         attr(topo, "cores", c, sizeof(c)), attr(topo, "threads", t, sizeof(t)));
                pf_field_add(b, PF_LAND_RESTART, PF_FIELD_SPARSE, v, "cpu.topology");
        }
        xmlNodePtr mem = pf_xml_child(root, "memory");
        unsigned long long bytes = strtoull(text(mem, v, sizeof(v)), NULL, 10) *
                                   scale(*attr(mem, "unit", u, sizeof(u)) ? u : "KiB");
        snprintf(v, sizeof(v), "%llu KiB", bytes / 1024);
        pf_field_add(b, PF_LAND_RESTART, 0, v, "memory");
        char boot[256];
        if (*join_children(os, "boot", "dev", boot, sizeof(boot)))
                pf_field_add(b, PF_LAND_RESTART, 0, boot, "boot");
        xmlNodePtr devices = pf_xml_child(root, "devices");
        bool serial = false;
        for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                if (pf_xml_is(d, "interface"))
                        interface_fields(d, doc, names, b);
                else if (pf_xml_is(d, "disk") && !strcmp(attr(d, "device", v, sizeof(v)), "disk"))
                        disk_fields(d, b);
                else if (pf_xml_is(d, "serial") && !serial) {
                        serial = true;
                        pf_field_add(b, PF_LAND_RESTART, 0, attr(d, "type", v, sizeof(v)), "serial");
                }
        }
}

void pf_lv_domain_nics(xmlDocPtr doc, pf_nic_fn *fn, void *ud) {
        xmlNodePtr vm = pf_lv_domain_record(doc);
        xmlNodePtr devices = vm ? pf_xml_child(xmlDocGetRootElement(doc), "devices") : NULL;
        char name[V], mac[V], ip[V], m[V], type[V], src[V];
        for (xmlNodePtr r = vm ? vm->children : NULL; r; r = r->next) {
                if (!pf_xml_is(r, "interface") || !*attr(r, "name", name, sizeof(name)))
                        continue;
                attr(r, "mac", mac, sizeof(mac));
                lower(mac);
                attr(r, "ip", ip, sizeof(ip));
                type[0] = src[0] = '\0';
                for (xmlNodePtr d = devices ? devices->children : NULL; d; d = d->next) {
                        if (!pf_xml_is(d, "interface"))
                                continue;
                        attr(pf_xml_child(d, "mac"), "address", m, sizeof(m));
                        lower(m);
                        if (strcmp(m, mac))
                                continue;
                        xmlNodePtr s = pf_xml_child(d, "source");
                        attr(d, "type", type, sizeof(type));
                        if (*attr(s, "network", src, sizeof(src)))
                                snprintf(type, sizeof(type), "network");
                        else if (!strcmp(type, "bridge"))
                                attr(s, "bridge", src, sizeof(src));
                        else if (!strcmp(type, "direct"))
                                attr(s, "dev", src, sizeof(src));
                        break;
                }
                fn(ud, name, *type ? type : NULL, *src ? src : NULL, *ip ? ip : NULL);
        }
}

void pf_lv_domain_record_fields(xmlDocPtr doc, pf_fields *b) {
        xmlNodePtr vm = pf_lv_domain_record(doc);
        char v[V], u[V];
        for (xmlNodePtr c = vm ? vm->children : NULL; c; c = c->next)
                if (pf_xml_is(c, "interface") && *attr(c, "ip", v, sizeof(v)) && *attr(c, "name", u, sizeof(u)))
                        pf_field_add(b, PF_LAND_LIVE, 0, v, "ip[%s]", u);
}
