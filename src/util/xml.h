/* xml.h: the few ways podform reads libvirt XML, shared by the extractor, the merge and the
 * driver, so that each reads elements alike. */
#pragma once
#include <stdbool.h>

#include <libxml/tree.h>

#include "util/arena.h"

/* pf_xml_parse: a document without network access and without blank text nodes, or NULL. */
xmlDocPtr pf_xml_parse(const char *xml);
/* pf_xml_is: whether n is an element of that name. */
bool pf_xml_is(xmlNodePtr n, const char *name);
/* pf_xml_child: the first child element of n (may be NULL) of that name, or NULL. */
xmlNodePtr pf_xml_child(xmlNodePtr n, const char *name);
/* pf_xml_prop_eq: whether n (may be NULL) has attribute `name` equal to value, ignoring case. */
bool pf_xml_prop_eq(xmlNodePtr n, const char *name, const char *value);
/* pf_xml_prop: attribute `name` of n in arena memory; "" when n is NULL or has none. */
char *pf_xml_prop(pf_arena *a, xmlNodePtr n, const char *name);
/* pf_xml_node_dump: one element of doc, serialised (malloc'd). */
char *pf_xml_node_dump(xmlDocPtr doc, xmlNodePtr n);
