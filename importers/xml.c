/*
 * xml - subscriber records from XML, one <subscriber> subtree at a time.
 *
 * The reader walks the document with xmlTextReaderRead; each <subscriber>
 * under the root is expanded into a small tree, read, and skipped with
 * xmlTextReaderNext, which lets libxml2 free it. Strings handed out in a
 * record belong to the reader until the next call.
 */
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/util/alloc.h"
#include "importers/xml.h"

/* No DTD loading, no network, no entity substitution, no huge-document relaxation. */
#define XML_READER_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT)

struct xml_reader {
    xmlTextReaderPtr reader;
    int pending;                /* result of the xmlTextReaderNext that skipped the last record */
    bool has_pending;
    bool root_seen;
    bool failed;
    char err[320];
    xmlNodePtr current;         /* the record last returned */
    xmlChar **owned;            /* strings of the current record */
    size_t nowned, capowned;
    struct xml_attr *attrs;
    size_t nattrs, capattrs;
    const char **lists;
    size_t nlists, caplists;
    xmlBufferPtr raw;
};

static void xml_on_error(void *arg, xmlErrorPtr e)
{
    struct xml_reader *r = arg;
    if (!e || e->level < XML_ERR_ERROR || r->err[0])
        return;
    char msg[256];
    snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "not well-formed");
    msg[strcspn(msg, "\n")] = 0;
    snprintf(r->err, sizeof(r->err), "line %d: %s", e->line, msg);
}

static struct xml_reader *xml_reader_wrap(xmlTextReaderPtr tr)
{
    if (!tr)
        return NULL;
    struct xml_reader *r = xcalloc(1, sizeof(*r));
    r->reader = tr;
    r->raw = xmlBufferCreate();
    xmlTextReaderSetStructuredErrorHandler(tr, xml_on_error, r);
    return r;
}

static int xml_close_nothing(void *arg)
{
    (void)arg;
    return 0;
}

/*
 * xml_reader_new - a reader taking its bytes from READ(ARG); ENCODING
 * overrides the document's declaration when not NULL. NULL only when
 * libxml2 cannot allocate it. The caller xml_reader_free()s it.
 */
struct xml_reader *xml_reader_new(xml_read_fn read, void *arg, const char *encoding)
{
    xmlInitParser();
    return xml_reader_wrap(xmlReaderForIO(read, xml_close_nothing, arg, NULL, encoding, XML_READER_OPTIONS));
}

/* xml_reader_new_mem - a reader over LEN bytes at DATA, which must outlive it. As xml_reader_new. */
struct xml_reader *xml_reader_new_mem(const char *data, size_t len, const char *encoding)
{
    xmlInitParser();
    if (len > (size_t)0x7fffffff)
        return NULL;
    return xml_reader_wrap(xmlReaderForMemory(data, (int)len, NULL, encoding, XML_READER_OPTIONS));
}

static int xml_fail(struct xml_reader *r, const char *fallback)
{
    r->failed = true;
    if (!r->err[0])
        snprintf(r->err, sizeof(r->err), "line %d: %s", xmlTextReaderGetParserLineNumber(r->reader), fallback);
    return -1;
}

static const char *xml_own(struct xml_reader *r, xmlChar *s)
{
    if (!s)
        return NULL;
    if (r->nowned == r->capowned) {
        r->capowned = r->capowned ? r->capowned * 2 : 16;
        r->owned = xrealloc(r->owned, r->capowned * sizeof(*r->owned));
    }
    r->owned[r->nowned++] = s;
    return (const char *)s;
}

static void xml_forget(struct xml_reader *r)
{
    for (size_t i = 0; i < r->nowned; i++)
        xmlFree(r->owned[i]);
    r->nowned = r->nattrs = r->nlists = 0;
    r->current = NULL;
}

static void xml_add_attr(struct xml_reader *r, const char *key, const char *value)
{
    if (r->nattrs == r->capattrs) {
        r->capattrs = r->capattrs ? r->capattrs * 2 : 8;
        r->attrs = xrealloc(r->attrs, r->capattrs * sizeof(*r->attrs));
    }
    r->attrs[r->nattrs].key = key;
    r->attrs[r->nattrs].value = value;
    r->nattrs++;
}

static void xml_add_list(struct xml_reader *r, const char *name)
{
    if (r->nlists == r->caplists) {
        r->caplists = r->caplists ? r->caplists * 2 : 4;
        r->lists = xrealloc(r->lists, r->caplists * sizeof(*r->lists));
    }
    r->lists[r->nlists++] = name;
}

static bool xml_is(const xmlChar *name, const char *want)
{
    return name && strcmp((const char *)name, want) == 0;
}

/* Fill REC from the expanded <subscriber> NODE. */
static void xml_read_record(struct xml_reader *r, xmlNodePtr node, struct xml_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->line = xmlGetLineNo(node);
    rec->email = xml_own(r, xmlGetProp(node, (const xmlChar *)"email"));
    rec->name = xml_own(r, xmlGetProp(node, (const xmlChar *)"name"));
    for (xmlNodePtr ch = node->children; ch; ch = ch->next) {
        if (ch->type != XML_ELEMENT_NODE)
            continue;
        const char *text = xml_own(r, xmlNodeGetContent(ch));
        if (!text)
            text = "";
        if (xml_is(ch->name, "email")) {
            if (rec->email && strcmp(rec->email, text) != 0)
                rec->problem = "two different email addresses";
            rec->email = text;
        } else if (xml_is(ch->name, "name")) {
            rec->name = text;
        } else if (xml_is(ch->name, "attribute")) {
            const char *key = xml_own(r, xmlGetProp(ch, (const xmlChar *)"name"));
            if (!key || !*key)
                rec->problem = "<attribute> without a name";
            else
                xml_add_attr(r, key, text);
        } else if (xml_is(ch->name, "list")) {
            xml_add_list(r, text);
        } else {
            xml_add_attr(r, (const char *)ch->name, text);
        }
    }
    rec->nattrs = r->nattrs;
    rec->attrs = r->attrs;
    rec->nlists = r->nlists;
    rec->lists = r->lists;
}

/* Move past the record last returned; libxml2 may then free its tree. */
static void xml_skip_current(struct xml_reader *r)
{
    if (r->current && !r->has_pending) {
        r->pending = xmlTextReaderNext(r->reader);
        r->has_pending = true;
    }
}

/*
 * xml_reader_next - the next record in REC. Returns 1 with a record (its
 * strings valid until the next call), 0 at the end of the document, -1 when
 * the document is refused or not well-formed (xml_reader_error says why).
 * An element under the root other than <subscriber> comes back as a record
 * with PROBLEM set.
 */
int xml_reader_next(struct xml_reader *r, struct xml_record *rec)
{
    xml_skip_current(r);
    xml_forget(r);
    if (r->failed)
        return -1;
    for (;;) {
        int ret = r->has_pending ? r->pending : xmlTextReaderRead(r->reader);
        r->has_pending = false;
        if (ret < 0)
            return xml_fail(r, "not well-formed XML");
        if (ret == 0) {
            if (!r->root_seen)
                return xml_fail(r, "no <subscribers> element");
            return 0;
        }
        int type = xmlTextReaderNodeType(r->reader);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE ||
            type == XML_READER_TYPE_ENTITY) {
            r->err[0] = 0;
            return xml_fail(r, "the document declares a DTD (<!DOCTYPE>); DTDs and entities are refused"
                               " (external entities, entity expansion)");
        }
        if (type != XML_READER_TYPE_ELEMENT)
            continue;
        const xmlChar *name = xmlTextReaderConstName(r->reader);
        int depth = xmlTextReaderDepth(r->reader);
        if (depth == 0) {
            if (!xml_is(name, "subscribers")) {
                snprintf(r->err, sizeof(r->err), "line %d: the root element is <%.64s>, not <subscribers>",
                         xmlTextReaderGetParserLineNumber(r->reader), (const char *)name);
                return xml_fail(r, "");
            }
            r->root_seen = true;
            continue;
        }
        xmlNodePtr node = xmlTextReaderExpand(r->reader);
        if (!node)
            return xml_fail(r, "not well-formed XML");
        if (xml_is(name, "subscriber")) {
            xml_read_record(r, node, rec);
        } else {
            memset(rec, 0, sizeof(*rec));
            rec->line = xmlGetLineNo(node);
            rec->problem = "unexpected element (not <subscriber>)";
        }
        r->current = node;
        return 1;
    }
}

/* xml_reader_raw - the record last returned, serialised as XML (valid until the next call); "" if none. */
const char *xml_reader_raw(struct xml_reader *r)
{
    if (!r->current)
        return "";
    xmlBufferEmpty(r->raw);
    xmlNodeDump(r->raw, r->current->doc, r->current, 0, 0);
    return (const char *)xmlBufferContent(r->raw);
}

/* xml_reader_error - why the reader stopped, or "". */
const char *xml_reader_error(const struct xml_reader *r)
{
    return r->err;
}

/* xml_reader_free - release R; NULL is accepted. */
void xml_reader_free(struct xml_reader *r)
{
    if (!r)
        return;
    xml_forget(r);
    xmlFreeTextReader(r->reader);
    xmlBufferFree(r->raw);
    xfree(r->owned);
    xfree(r->attrs);
    xfree(r->lists);
    xfree(r);
}
