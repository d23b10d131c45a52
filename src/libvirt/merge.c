#include "config.h"
#include "libvirt/merge.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "libvirt/fields.h"
#include "libvirt/render.h"
#include "util/cleanup.h"
#include "util/xml.h"

/* The device in `devices` of the same identity as `dev` (interface: MAC; disk: volume). */
static xmlNodePtr same_device(xmlNodePtr devices, xmlNodePtr dev) {
        for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE || xmlStrcmp(c->name, dev->name))
                        continue;
                if (pf_xml_is(dev, "interface")) {
                        xmlChar *mac = xmlGetProp(pf_xml_child(dev, "mac"), BAD_CAST "address");
                        bool eq = mac && pf_xml_prop_eq(pf_xml_child(c, "mac"), "address", (char *) mac);
                        xmlFree(mac);
                        if (eq)
                                return c;
                } else if (pf_xml_is(dev, "disk")) {
                        xmlNodePtr s = pf_xml_child(dev, "source");
                        xmlChar *pool = s ? xmlGetProp(s, BAD_CAST "pool") : NULL, *vol = s ? xmlGetProp(s, BAD_CAST "volume") : NULL;
                        bool eq = pool && vol && pf_xml_prop_eq(pf_xml_child(c, "source"), "pool", (char *) pool) &&
                                  pf_xml_prop_eq(pf_xml_child(c, "source"), "volume", (char *) vol);
                        xmlFree(pool);
                        xmlFree(vol);
                        if (eq)
                                return c;
                }
        }
        return NULL;
}

/* Element helpers for merging: the live definition is the base, podform's parts replace
 * their live counterparts, and everything else (a UEFI loader, <clock>, <cpu mode>, a title,
 * other tools' metadata, devices added by hand, the PCI slots libvirt chose) is kept. */
static void drop_children(xmlNodePtr parent, const char *name) {
        for (xmlNodePtr c = parent ? parent->children : NULL, next; c; c = next) {
                next = c->next;
                if (pf_xml_is(c, name)) {
                        xmlUnlinkNode(c);
                        xmlFreeNode(c);
                }
        }
}

/* Replace the live `name` children of `base` with copies of those in `from` (none: removed). */
static void replace_children(xmlNodePtr base, xmlNodePtr from, const char *name) {
        drop_children(base, name);
        for (xmlNodePtr c = from ? from->children : NULL; c; c = c->next)
                if (pf_xml_is(c, name))
                        xmlAddChild(base, xmlCopyNode(c, 1));
}

static xmlNodePtr ensure_child(xmlNodePtr parent, const char *name) {
        xmlNodePtr c = pf_xml_child(parent, name);
        return c ? c : xmlNewChild(parent, NULL, BAD_CAST name, NULL);
}

static void copy_prop(xmlNodePtr to, xmlNodePtr from, const char *name) {
        xmlChar *v = xmlGetProp(from, BAD_CAST name);
        if (v)
                xmlSetProp(to, BAD_CAST name, v);
        else
                xmlUnsetProp(to, BAD_CAST name);
        xmlFree(v);
}

/* What of a live NIC or disk podform renders: the rest of it (a <bandwidth>, a <vlan>, a
 * <readonly/>, a disk's cache mode, a NIC's rx_queue_size) is someone's choice, kept when
 * podform's version replaces the device. */
static bool managed_part(xmlNodePtr dev, xmlNodePtr part) {
        static const char *const nic[] = { "mac", "source", "model", "driver", "boot", "target", "alias",
                                           "portForward", "backend", NULL };
        static const char *const disk[] = { "driver", "source", "target", "boot", "alias", NULL };
        for (const char *const *n = pf_xml_is(dev, "interface") ? nic : disk; *n; n++)
                if (pf_xml_is(part, *n))
                        return true;
        return part->type != XML_ELEMENT_NODE;
}

/* Into `mine` (podform's device, about to replace `live`): live's parts podform does not render,
 * the slot libvirt gave it (so the guest sees no move), and the attributes of its <driver>
 * podform does not set. */
static void keep_unmanaged(xmlNodePtr mine, xmlNodePtr live) {
        for (xmlNodePtr c = live->children; c; c = c->next)
                if ((!managed_part(live, c) || pf_xml_is(c, "address")) && !pf_xml_child(mine, (const char *) c->name))
                        xmlAddChild(mine, xmlCopyNode(c, 1));
        xmlNodePtr ldrv = pf_xml_child(live, "driver");
        for (xmlAttrPtr a = ldrv ? ldrv->properties : NULL; a; a = a->next) {
                static const char *const set[] = { "name", "type", "queues" };
                bool podforms = false;
                for (size_t i = 0; i < 3 && !podforms; i++)
                        podforms = !xmlStrcmp(a->name, BAD_CAST set[i]);
                if (podforms)
                        continue;
                xmlChar *v = xmlGetProp(ldrv, a->name);
                xmlNodePtr mdrv = pf_xml_child(mine, "driver");
                xmlSetProp(mdrv ? mdrv : xmlNewChild(mine, NULL, BAD_CAST "driver", NULL), a->name, v);
                xmlFree(v);
        }
}

/* Whether the live device `c` is podform's: declared now (same identity in `wdev`) or recorded
 * in the live podform metadata (declared once, dropped since). */
static bool ours(xmlNodePtr c, xmlNodePtr wdev, xmlNodePtr recorded) {
        if (pf_xml_is(c, "interface")) {
                if (same_device(wdev, c))
                        return true;
                xmlChar *mac = xmlGetProp(pf_xml_child(c, "mac"), BAD_CAST "address");
                bool found = false;
                for (xmlNodePtr r = recorded ? recorded->children : NULL; r && mac; r = r->next)
                        if (pf_xml_is(r, "interface") && pf_xml_prop_eq(r, "mac", (char *) mac))
                                found = true;
                xmlFree(mac);
                return found;
        }
        if (!pf_xml_is(c, "disk") || !pf_xml_prop_eq(c, "type", "volume"))
                return false;
        if (same_device(wdev, c))
                return true;
        xmlNodePtr s = pf_xml_child(c, "source");
        bool found = false;
        for (xmlNodePtr r = recorded ? recorded->children : NULL; r && s; r = r->next)
                if (pf_xml_is(r, "disk")) {
                        xmlChar *pool = xmlGetProp(r, BAD_CAST "pool"), *vol = xmlGetProp(r, BAD_CAST "volume");
                        if (pool && vol && pf_xml_prop_eq(s, "pool", (char *) pool) && pf_xml_prop_eq(s, "volume", (char *) vol))
                                found = true;
                        xmlFree(pool);
                        xmlFree(vol);
                }
        return found;
}

static unsigned long number(xmlNodePtr n, const char *attr_name) {
        xmlChar *v = attr_name ? xmlGetProp(n, BAD_CAST attr_name) : xmlNodeGetContent(n);
        unsigned long x = v ? strtoul((const char *) v, NULL, 10) : 0;
        xmlFree(v);
        return x;
}

/* Whether a topology makes `vcpus` vCPUs (absent parts count 1, as libvirt counts them;
 * clusters came with libvirt 10.1). */
static bool topology_fits(xmlNodePtr topo, unsigned long vcpus) {
        static const char *const parts[] = { "sockets", "dies", "clusters", "cores", "threads" };
        unsigned long product = 1;
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
                product *= xmlHasProp(topo, BAD_CAST parts[i]) ? number(topo, parts[i]) : 1;
        return product == vcpus;
}

/* A declared topology replaces the live one. Without one, the live topology is someone else's
 * and stays, unless it no longer fits the vCPU count podform sends: libvirt's QEMU driver
 * refuses such a definition ("CPU topology doesn't match maximum vcpu count"), so the apply of
 * a smaller VM whose sockets or threads were dropped from its configuration would fail. */
static void merge_topology(xmlNodePtr h, xmlNodePtr w) {
        xmlNodePtr wcpu = pf_xml_child(w, "cpu");
        if (pf_xml_child(wcpu, "topology")) {
                replace_children(ensure_child(h, "cpu"), wcpu, "topology");
                return;
        }
        xmlNodePtr hcpu = pf_xml_child(h, "cpu"), htopo = pf_xml_child(hcpu, "topology");
        if (!htopo || topology_fits(htopo, number(pf_xml_child(h, "vcpu"), NULL)))
                return;
        drop_children(hcpu, "topology");
        bool empty = !hcpu->properties;
        for (xmlNodePtr c = hcpu->children; c && empty; c = c->next)
                empty = c->type != XML_ELEMENT_NODE;
        if (empty) {
                xmlUnlinkNode(hcpu);
                xmlFreeNode(hcpu);
        }
}

/* The definition to send for a domain that exists. */
char *pf_lv_merge_domain(const char *want_xml, const char *have_xml) {
        _cleanup_xml_doc_ xmlDocPtr want = pf_xml_parse(want_xml), have = pf_xml_parse(have_xml);
        char *out = NULL;
        if (want && have) {
                xmlNodePtr w = xmlDocGetRootElement(want), h = xmlDocGetRootElement(have);
                copy_prop(h, w, "type");
                replace_children(h, w, "memory");
                drop_children(h, "currentMemory");      /* libvirt sets it to memory */
                replace_children(h, w, "vcpu");
                xmlNodePtr hos = ensure_child(h, "os"), wos = pf_xml_child(w, "os");
                replace_children(hos, wos, "type");
                replace_children(hos, wos, "boot");
                if (!pf_xml_child(h, "features"))
                        replace_children(h, w, "features");
                merge_topology(h, w);
                /* ownership stays as it was: a VM podform did not create gets no mark */
                /* a copy of another VM (virt-clone) carries that one's record: not podform's */
                xmlNodePtr recorded = pf_lv_domain_record(have), mine = pf_lv_domain_metadata(want);
                xmlNodePtr hmd = recorded ? recorded->parent : NULL;
                _cleanup_xml_node_ xmlNodePtr keep_recorded = recorded ? xmlCopyNode(recorded, 1) : NULL;
                if (recorded) {
                        xmlUnlinkNode(recorded);
                        xmlFreeNode(recorded);
                        xmlAddChild(hmd, xmlDocCopyNode(mine, have, 1));
                }
                xmlNodePtr wdev = pf_xml_child(w, "devices"), hdev = ensure_child(h, "devices");
                for (xmlNodePtr c = hdev->children, next; c; c = next) {
                        next = c->next;
                        if (c->type != XML_ELEMENT_NODE)
                                continue;
                        bool replaced = (pf_xml_is(c, "serial") || pf_xml_is(c, "console")) && pf_xml_child(wdev, (const char *) c->name);
                        if (!replaced && !ours(c, wdev, keep_recorded))
                                continue;
                        xmlNodePtr mine_dev = pf_xml_is(c, "interface") || pf_xml_is(c, "disk") ? same_device(wdev, c) : NULL;
                        if (mine_dev)
                                keep_unmanaged(mine_dev, c);
                        xmlUnlinkNode(c);
                        xmlFreeNode(c);
                }
                for (xmlNodePtr c = wdev ? wdev->children : NULL; c; c = c->next)
                        if (c->type == XML_ELEMENT_NODE)
                                xmlAddChild(hdev, xmlDocCopyNode(c, have, 1));
                out = pf_xml_dump(have);
        }
        return out;
}

/* The definition to send for a network that exists: the live one with podform's elements
 * replaced, so what podform does not manage (DNS entries, port groups, the MAC of the
 * bridge, a bridge name libvirt chose) stays. */
char *pf_lv_merge_network(const char *want_xml, const char *have_xml) {
        _cleanup_xml_doc_ xmlDocPtr want = pf_xml_parse(want_xml), have = pf_xml_parse(have_xml);
        char *out = NULL;
        if (want && have) {
                xmlNodePtr w = xmlDocGetRootElement(want), h = xmlDocGetRootElement(have);
                replace_children(h, w, "forward");
                xmlNodePtr hbr = pf_xml_child(h, "bridge"), wbr = pf_xml_child(w, "bridge");
                xmlChar *live_name = hbr ? xmlGetProp(hbr, BAD_CAST "name") : NULL;
                replace_children(h, w, "bridge");
                hbr = pf_xml_child(h, "bridge");
                if (live_name && wbr && !xmlHasProp(wbr, BAD_CAST "name") && hbr)
                        xmlSetProp(hbr, BAD_CAST "name", live_name);
                xmlFree(live_name);
                replace_children(h, w, "mtu");
                replace_children(h, w, "domain");
                replace_children(h, w, "ip");
                out = pf_xml_dump(have);
        }
        return out;
}
