/* render_xml.h: the element builders render.c and render_domain.c share. */
#pragma once
#include <stdio.h>

#include <libxml/tree.h>

#include "config/values.h"
#include "model/model.h"
#include "util/xalloc.h"

/* ---- libxml2 helpers: a NULL from libxml2 here can only mean out of memory ---- */

static inline void *xml_check(void *p) {
        if (!p)
                pf_oom();
        return p;
}

static inline xmlDocPtr new_doc(const char *root_name, xmlNodePtr *root) {
        xmlDocPtr doc = xml_check(xmlNewDoc(BAD_CAST "1.0"));
        *root = xml_check(xmlNewDocNode(doc, NULL, BAD_CAST root_name, NULL));
        xmlDocSetRootElement(doc, *root);
        return doc;
}

static inline xmlNodePtr child(xmlNodePtr parent, const char *name) {
        return xml_check(xmlNewChild(parent, NULL, BAD_CAST name, NULL));
}

/* xmlNewTextChild, not xmlNewChild: content is text, so '&' in a path must be escaped. */
static inline xmlNodePtr text_child(xmlNodePtr parent, const char *name, const char *text) {
        return xml_check(xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST (text ? text : "")));
}

static inline void prop(xmlNodePtr n, const char *name, const char *value) {
        xml_check(xmlNewProp(n, BAD_CAST name, BAD_CAST (value ? value : "")));
}

static inline void prop_u(xmlNodePtr n, const char *name, unsigned long long v) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%llu", v);
        prop(n, name, buf);
}

static inline void prop_ip(xmlNodePtr n, const char *name, const pf_ip *ip) {
        char buf[64];
        prop(n, name, pf_ip_format(ip, buf));
}

static inline void prop_mac(xmlNodePtr n, const char *name, const pf_mac *m) {
        char buf[64];
        prop(n, name, pf_mac_format(m, buf));
}

/* <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/> */
static inline void pci_address(xmlNodePtr parent, const pf_pci *p) {
        char buf[16];
        xmlNodePtr a = child(parent, "address");
        prop(a, "type", "pci");
        snprintf(buf, sizeof(buf), "0x%04x", p->domain);
        prop(a, "domain", buf);
        snprintf(buf, sizeof(buf), "0x%02x", p->bus);
        prop(a, "bus", buf);
        snprintf(buf, sizeof(buf), "0x%02x", p->slot);
        prop(a, "slot", buf);
        snprintf(buf, sizeof(buf), "0x%x", p->function);
        prop(a, "function", buf);
}
