#include "config.h"
#include "util/xml.h"

#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "util/cleanup.h"

xmlDocPtr pf_xml_parse(const char *xml) {
        return xmlReadMemory(xml, (int) strlen(xml), "libvirt.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
}

bool pf_xml_is(xmlNodePtr n, const char *name) {
        return n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST name);
}

xmlNodePtr pf_xml_child(xmlNodePtr n, const char *name) {
        for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
                if (pf_xml_is(c, name))
                        return c;
        return NULL;
}

bool pf_xml_prop_eq(xmlNodePtr n, const char *name, const char *value) {
        _cleanup_xml_char_ xmlChar *v = n ? xmlGetProp(n, BAD_CAST name) : NULL;
        return v && !strcasecmp((char *) v, value);
}

char *pf_xml_node_dump(xmlDocPtr doc, xmlNodePtr n) {
        xmlBufferPtr buf = xmlBufferCreate();
        xmlNodeDump(buf, doc, n, 0, 0);
        char *s = pf_xstrdup((const char *) xmlBufferContent(buf));
        xmlBufferFree(buf);
        return s;
}

char *pf_xml_prop(pf_arena *a, xmlNodePtr n, const char *name) {
        xmlAttrPtr at = n ? xmlHasProp(n, BAD_CAST name) : NULL;
        /* the common case, one text node, copied once; else libxml2 joins the value */
        if (at && at->type == XML_ATTRIBUTE_NODE && at->children && !at->children->next &&
            at->children->type == XML_TEXT_NODE && at->children->content)
                return pf_arena_strdup(a, (const char *) at->children->content);
        xmlChar *v = at ? xmlGetProp(n, BAD_CAST name) : NULL;
        char *s = pf_arena_strdup(a, v ? (const char *) v : "");
        xmlFree(v);
        return s;
}
