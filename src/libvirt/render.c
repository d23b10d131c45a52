/* render.c: libvirt documents for pools, volumes and networks (render.h); the domain is
 * render_domain.c's. */
#include "config.h"
#include "libvirt/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/values.h"
#include "libvirt/render_xml.h"
#include "model/names.h"
#include "util/xalloc.h"

char *pf_xml_dump(xmlDocPtr doc) {
        xmlNodePtr root = xmlDocGetRootElement(doc);
        if (!root)
                return pf_xstrdup("");
        xmlBufferPtr buf = xml_check(xmlBufferCreate());
        if (xmlNodeDump(buf, doc, root, 0, 1) < 0)
                pf_oom();
        const char *s = (const char *) xmlBufferContent(buf);
        size_t n = strlen(s);
        char *out = pf_xmalloc(n + 2);
        memcpy(out, s, n);
        out[n] = '\n';          /* as xmlDocDumpFormatMemory ends */
        out[n + 1] = '\0';
        xmlBufferFree(buf);
        return out;
}

/* ---- small public helpers ---- */

const char *pf_disk_pool(const pf_render_env *env, const pf_disk *disk) {
        return disk->pool ? disk->pool : env->host->default_storage_pool;
}

char *pf_volume_name(pf_arena *a, const char *vm, const char *disk) {
        return pf_arena_printf(a, "%s-%s", vm, disk);
}

unsigned pf_vm_vcpus(const pf_vm *vm) {
        return vm->sockets * vm->cores * vm->threads;
}

/* The top bytes of the hash: FNV-1a's last step is a multiplication, so its high bits depend
 * on every input byte while its low bits depend on few. */
/* ---- pools and volumes ---- */

xmlDocPtr pf_render_pool(const pf_pool *p) {
        xmlNodePtr root;
        xmlDocPtr doc = new_doc("pool", &root);
        prop(root, "type", pf_enum_name(&pf_pool_type_enum, p->type));
        text_child(root, "name", p->meta.name);
        xmlNodePtr target = child(root, "target");
        text_child(target, "path", p->path);
        return doc;
}

xmlDocPtr pf_render_volume(const char *name, uint64_t capacity, pf_disk_format format) {
        xmlNodePtr root;
        xmlDocPtr doc = new_doc("volume", &root);
        text_child(root, "name", name);
        char buf[24];
        /* the bytes asked: raw is a file libvirt truncates to them; for qcow2 libvirt asks qemu-img
         * for whole KiB, which the volume kind takes as the size asked */
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long) capacity);
        xmlNodePtr cap = text_child(root, "capacity", buf);
        prop(cap, "unit", "bytes");
        /* thin: without it libvirt preallocates raw volumes in full */
        prop(text_child(root, "allocation", "0"), "unit", "bytes");
        xmlNodePtr target = child(root, "target");
        prop(child(target, "format"), "type", pf_enum_name(&pf_disk_format_enum, format));
        return doc;
}

/* ---- networks ---- */

static void render_net_ip(xmlNodePtr root, const pf_net_ip *ip, const pf_bootp *bootp) {
        xmlNodePtr e = child(root, "ip");
        prop_ip(e, "address", &ip->address);
        prop_u(e, "prefix", ip->prefix);
        if (ip->address.family == AF_INET6)
                prop(e, "family", "ipv6");
        if (!pf_loc_set(ip->dhcp_loc))
                return;
        xmlNodePtr dhcp = child(e, "dhcp");
        for (size_t i = 0; i < ip->dhcp_ranges.n; i++) {
                xmlNodePtr range = child(dhcp, "range");
                prop_ip(range, "start", &ip->dhcp_ranges.v[i].start);
                prop_ip(range, "end", &ip->dhcp_ranges.v[i].end);
        }
        for (size_t i = 0; i < ip->dhcp_hosts.n; i++) {
                const pf_dhcp_host *h = &ip->dhcp_hosts.v[i];
                xmlNodePtr host = child(dhcp, "host");
                if (pf_loc_set(h->mac_loc) && !pf_mac_is_zero(&h->mac))
                        prop_mac(host, "mac", &h->mac);
                prop_ip(host, "ip", &h->ip);
                if (h->name)
                        prop(host, "name", h->name);
        }
        const char *file = ip->bootp_file ? ip->bootp_file : bootp ? bootp->file : NULL;
        const char *server = ip->bootp_file ? ip->bootp_server : bootp ? bootp->server : NULL;
        if (file) {
                xmlNodePtr b = child(dhcp, "bootp");
                prop(b, "file", file);
                if (server)
                        prop(b, "server", server);
        }
}

xmlDocPtr pf_render_network(const pf_network *n) { return pf_render_network_bootp(n, NULL); }

xmlDocPtr pf_render_network_bootp(const pf_network *n, const pf_bootp *bootp) {
        xmlNodePtr root;
        xmlDocPtr doc = new_doc("network", &root);
        text_child(root, "name", n->meta.name);
        if (n->forward != PF_FORWARD_NONE) {
                xmlNodePtr fwd = child(root, "forward");
                prop(fwd, "mode", pf_enum_name(&pf_forward_enum, n->forward));
                if (n->forward == PF_FORWARD_NAT && pf_loc_set(n->nat_loc)) {
                        xmlNodePtr port = child(child(fwd, "nat"), "port");
                        prop_u(port, "start", n->nat_port_start);
                        prop_u(port, "end", n->nat_port_end);
                }
                for (size_t i = 0; i < n->interfaces.n; i++)
                        prop(child(fwd, "interface"), "dev", n->interfaces.v[i].name);
        }
        switch (n->forward) {
        case PF_FORWARD_NAT:
        case PF_FORWARD_ROUTE:
        case PF_FORWARD_OPEN:
        case PF_FORWARD_NONE: {
                /* libvirt creates this bridge: state stp and delay always, so that libvirt's
                 * defaults (stp on) never differ from what the configuration means. */
                xmlNodePtr br = child(root, "bridge");
                if (n->bridge_name)
                        prop(br, "name", n->bridge_name);
                prop(br, "stp", n->bridge_stp ? "on" : "off");
                prop_u(br, "delay", n->bridge_delay);
                break;
        }
        case PF_FORWARD_BRIDGE:
                if (n->bridge_name)
                        prop(child(root, "bridge"), "name", n->bridge_name);
                break;
        default:
                break;
        }
        if (pf_loc_set(n->mtu_loc))
                prop_u(child(root, "mtu"), "size", n->mtu);
        if (n->domain)
                prop(child(root, "domain"), "name", n->domain);
        for (size_t i = 0; i < n->ips.n; i++)
                render_net_ip(root, &n->ips.v[i], bootp && bootp->ip_index == i ? bootp : NULL);
        return doc;
}
