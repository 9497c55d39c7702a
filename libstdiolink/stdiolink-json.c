#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"

/*
 * json-glib prints doubles with %.17g and keeps insertion order; the earlier server printed
 * the shortest round-trip form and sorted keys by code point. Every byte we send or write
 * goes through this writer so that the wire and the files match it.
 */

static void
append_string(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	for (const guchar *p = (const guchar *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\b':
			g_string_append(out, "\\b");
			break;
		case '\f':
			g_string_append(out, "\\f");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
	g_string_append_c(out, '"');
}

/**
 * stdiolink_json_format_number:
 * @value: a double
 *
 * Formats @value the way the earlier server did: integral values without a fraction,
 * others in the shortest form that reads back to the same double. Non-finite values,
 * which JSON cannot carry, become `null`.
 *
 * Returns: (transfer full): the text
 */
char *
stdiolink_json_format_number(double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE];

	if (!isfinite(value))
		return g_strdup("null");

	/* integral and exactly representable: print every digit, no exponent */
	if (value == trunc(value) && fabs(value) < 9007199254740992.0)
		return g_strdup_printf("%" G_GINT64_FORMAT, (gint64)value);

	/* g_ascii_formatd() ignores the locale, so a decimal comma never reaches the wire */
	for (int precision = 1; precision <= 17; precision++) {
		char fmt[8];

		g_snprintf(fmt, sizeof(fmt), "%%.%dg", precision);
		g_ascii_formatd(buf, sizeof(buf), fmt, value);
		if (g_ascii_strtod(buf, NULL) == value)
			break;
	}
	return g_strdup(buf);
}

static void
append_indent(GString *out, StdiolinkJsonFlags flags, guint depth)
{
	if ((flags & STDIOLINK_JSON_PRETTY) == 0)
		return;
	g_string_append_c(out, '\n');
	for (guint i = 0; i < depth; i++)
		g_string_append(out, "    ");
}

static void append_node(GString *out, JsonNode *node, StdiolinkJsonFlags flags, guint depth);

static void
append_value(GString *out, JsonNode *node)
{
	GType type = json_node_get_value_type(node);

	if (type == G_TYPE_STRING) {
		append_string(out, json_node_get_string(node));
	} else if (type == G_TYPE_BOOLEAN) {
		g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
	} else if (type == G_TYPE_INT64 || type == G_TYPE_INT || type == G_TYPE_UINT) {
		g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
	} else {
		g_autofree char *num = stdiolink_json_format_number(json_node_get_double(node));
		g_string_append(out, num);
	}
}

static void
append_object(GString *out, JsonObject *object, StdiolinkJsonFlags flags, guint depth)
{
	g_autoptr(GList) members = stdiolink_json_object_get_sorted_members(object);

	g_string_append_c(out, '{');
	for (GList *l = members; l != NULL; l = l->next) {
		const char *name = l->data;

		append_indent(out, flags, depth + 1);
		append_string(out, name);
		g_string_append(out, (flags & STDIOLINK_JSON_PRETTY) ? ": " : ":");
		append_node(out, json_object_get_member(object, name), flags, depth + 1);
		if (l->next != NULL)
			g_string_append_c(out, ',');
	}
	if (members != NULL)
		append_indent(out, flags, depth);
	g_string_append_c(out, '}');
}

static void
append_array(GString *out, JsonArray *array, StdiolinkJsonFlags flags, guint depth)
{
	guint n = json_array_get_length(array);

	g_string_append_c(out, '[');
	for (guint i = 0; i < n; i++) {
		append_indent(out, flags, depth + 1);
		append_node(out, json_array_get_element(array, i), flags, depth + 1);
		if (i + 1 < n)
			g_string_append_c(out, ',');
	}
	if (n > 0)
		append_indent(out, flags, depth);
	g_string_append_c(out, ']');
}

static void
append_node(GString *out, JsonNode *node, StdiolinkJsonFlags flags, guint depth)
{
	if (node == NULL) {
		g_string_append(out, "null");
		return;
	}
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT:
		append_object(out, json_node_get_object(node), flags, depth);
		break;
	case JSON_NODE_ARRAY:
		append_array(out, json_node_get_array(node), flags, depth);
		break;
	case JSON_NODE_VALUE:
		append_value(out, node);
		break;
	case JSON_NODE_NULL:
	default:
		g_string_append(out, "null");
		break;
	}
}

/**
 * stdiolink_json_append:
 * @out: the string to append to
 * @node: (nullable): the node to write; %NULL writes `null`
 * @flags: #StdiolinkJsonFlags
 *
 * Appends @node with object keys in code-point order.
 */
void
stdiolink_json_append(GString *out, JsonNode *node, StdiolinkJsonFlags flags)
{
	append_node(out, node, flags, 0);
	if (flags & STDIOLINK_JSON_PRETTY)
		g_string_append_c(out, '\n');
}

/**
 * stdiolink_json_to_string:
 * @node: (nullable): the node
 * @flags: #StdiolinkJsonFlags
 *
 * Returns: (transfer full): the JSON text, keys sorted, numbers in shortest form
 */
char *
stdiolink_json_to_string(JsonNode *node, StdiolinkJsonFlags flags)
{
	GString *out = g_string_new(NULL);

	stdiolink_json_append(out, node, flags);
	return g_string_free(out, FALSE);
}

/**
 * stdiolink_json_object_to_string:
 * @object: the object
 * @flags: #StdiolinkJsonFlags
 *
 * Returns: (transfer full): the JSON text of @object
 */
char *
stdiolink_json_object_to_string(JsonObject *object, StdiolinkJsonFlags flags)
{
	GString *out = g_string_new(NULL);

	append_object(out, object, flags, 0);
	if (flags & STDIOLINK_JSON_PRETTY)
		g_string_append_c(out, '\n');
	return g_string_free(out, FALSE);
}

/*
 * json-glib recurses once per nesting level, keeps the last of several top-level values
 * and ends strings at an escaped NUL. This pass refuses those inputs before it parses:
 * a hostile body must get a 400, not crash the daemon or smuggle a second value.
 */
typedef struct {
	guint depth;
	gboolean in_string;
	gboolean in_scalar;
	gboolean done;
} ScanState;

static gboolean
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static gboolean
is_json_structural(char c)
{
	return strchr("{}[],:\"", c) != NULL;
}

static gboolean
scan_fail(GError **error, const char *message)
{
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST, message);
	return FALSE;
}

/* the four hex digits at @i as a number, or -1 if there are not four hex digits there */
static gint
read_hex4(const char *data, gsize len, gsize i)
{
	gint value = 0;

	if (i + 4 > len)
		return -1;
	for (gsize k = i; k < i + 4; k++) {
		gint digit = g_ascii_xdigit_value(data[k]);

		if (digit < 0)
			return -1;
		value = value * 16 + digit;
	}
	return value;
}

static gboolean
is_low_surrogate(gint unit)
{
	return unit >= 0xdc00 && unit <= 0xdfff;
}

/*
 * json-glib takes any bytes after \u as digits ("\ucé") and lets a high surrogate stand
 * alone ("\ud800x"); both leave strings that are not UTF-8, which the writer then puts in
 * files that no longer parse. Only well-formed escapes pass. Returns the length of the
 * escape at @i, or 0 with @error set.
 */
static gsize
scan_escape(const char *data, gsize len, gsize i, GError **error)
{
	gint unit;

	/* a backslash at the very end: the parser reports the unterminated string */
	if (i + 1 >= len)
		return 1;
	if (strchr("\"\\/bfnrt", data[i + 1]) != NULL)
		return 2;
	if (data[i + 1] != 'u')
		return scan_fail(error, "invalid escape in JSON string"), 0;

	unit = read_hex4(data, len, i + 2);
	if (unit < 0)
		return scan_fail(error, "invalid \\u escape in JSON string"), 0;
	if (unit == 0)
		return scan_fail(error, "NUL character (\\u0000) in JSON string"), 0;
	if (is_low_surrogate(unit))
		return scan_fail(error, "unpaired surrogate in JSON string"), 0;
	if (unit < 0xd800 || unit > 0xdbff)
		return 6;

	/* a high surrogate needs its low half right after it */
	if (i + 7 >= len || data[i + 6] != '\\' || data[i + 7] != 'u' ||
	    !is_low_surrogate(read_hex4(data, len, i + 8)))
		return scan_fail(error, "unpaired surrogate in JSON string"), 0;
	return 12;
}

/* inside a string: only escapes matter; returns how many bytes were consumed */
static gsize
scan_string_byte(ScanState *st, const char *data, gsize len, gsize i, GError **error)
{
	if (data[i] == '\\')
		return scan_escape(data, len, i, error);
	if (data[i] == '"') {
		st->in_string = FALSE;
		st->done = st->depth == 0;
	}
	return 1;
}

static gboolean
scan_structure(const char *data, gsize len, GError **error)
{
	ScanState st = {0};

	for (gsize i = 0; i < len;) {
		char c = data[i];

		if (st.in_string) {
			gsize step = scan_string_byte(&st, data, len, i, error);

			if (step == 0)
				return FALSE;
			i += step;
			continue;
		}
		i++;
		if (st.done) {
			if (!is_json_space(c))
				return scan_fail(error, "unexpected content after the JSON value");
			continue;
		}
		if (st.in_scalar) {
			if (is_json_space(c))
				st.done = TRUE;
			else if (is_json_structural(c))
				return scan_fail(error, "unexpected content after the JSON value");
			continue;
		}
		if (c == '"') {
			st.in_string = TRUE;
		} else if (c == '{' || c == '[') {
			if (++st.depth > STDIOLINK_JSON_MAX_DEPTH)
				return scan_fail(error, "JSON nested too deeply");
		} else if (c == '}' || c == ']') {
			st.depth = st.depth > 0 ? st.depth - 1 : 0;
			st.done = st.depth == 0;
		} else if (st.depth == 0 && !is_json_space(c)) {
			st.in_scalar = TRUE;
		}
	}
	return TRUE;
}

/**
 * stdiolink_json_parse:
 * @data: the text
 * @length: its length, or -1 if nul-terminated
 * @error: return location for a #GError
 *
 * Parses exactly one JSON document. Refused before parsing, with
 * %STDIOLINK_ERROR_BAD_REQUEST: NUL bytes, invalid UTF-8, nesting deeper than
 * %STDIOLINK_JSON_MAX_DEPTH, `\u0000` in a string and anything after the value. Other
 * errors carry the parser's message.
 *
 * Returns: (transfer full): the root node, or %NULL with @error set
 */
JsonNode *
stdiolink_json_parse(const char *data, gssize length, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GError) local_error = NULL;
	gsize len = length < 0 ? strlen(data) : (gsize)length;
	JsonNode *root;

	if (memchr(data, '\0', len) != NULL)
		return scan_fail(error, "NUL byte in JSON text"), NULL;
	if (!g_utf8_validate_len(data, len, NULL))
		return scan_fail(error, "invalid UTF-8 in JSON text"), NULL;
	if (!scan_structure(data, len, error))
		return NULL;
	if (!json_parser_load_from_data(parser, data, (gssize)len, &local_error))
		return scan_fail(error, local_error->message), NULL;
	root = json_parser_get_root(parser);
	if (root == NULL)
		return scan_fail(error, "empty JSON document"), NULL;
	return json_node_copy(root);
}

/**
 * stdiolink_json_node_is_number:
 * @node: (nullable): a node
 *
 * json-glib keeps integers and doubles apart; the protocol has one number type.
 *
 * Returns: %TRUE if @node is an integer or a double
 */
gboolean
stdiolink_json_node_is_number(JsonNode *node)
{
	GType type;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node))
		return FALSE;
	type = json_node_get_value_type(node);
	return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE || type == G_TYPE_INT ||
	       type == G_TYPE_UINT || type == G_TYPE_FLOAT;
}

/**
 * stdiolink_json_node_get_number:
 * @node: a number node
 *
 * Returns: its value as a double, or 0 if @node is not a number
 */
double
stdiolink_json_node_get_number(JsonNode *node)
{
	if (!stdiolink_json_node_is_number(node))
		return 0;
	if (json_node_get_value_type(node) == G_TYPE_DOUBLE ||
	    json_node_get_value_type(node) == G_TYPE_FLOAT)
		return json_node_get_double(node);
	return (double)json_node_get_int(node);
}

/**
 * stdiolink_json_node_is_string:
 * @node: (nullable): a node
 *
 * Returns: %TRUE if @node holds a string
 */
gboolean
stdiolink_json_node_is_string(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_STRING;
}

/**
 * stdiolink_json_node_is_bool:
 * @node: (nullable): a node
 *
 * Returns: %TRUE if @node holds a boolean
 */
gboolean
stdiolink_json_node_is_bool(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_BOOLEAN;
}

static gboolean
objects_equal(JsonObject *a, JsonObject *b)
{
	g_autoptr(GList) members = NULL;

	if (json_object_get_size(a) != json_object_get_size(b))
		return FALSE;
	members = json_object_get_members(a);
	for (GList *l = members; l != NULL; l = l->next) {
		if (!json_object_has_member(b, l->data))
			return FALSE;
		if (!stdiolink_json_equal(json_object_get_member(a, l->data),
					  json_object_get_member(b, l->data)))
			return FALSE;
	}
	return TRUE;
}

static gboolean
arrays_equal(JsonArray *a, JsonArray *b)
{
	guint n = json_array_get_length(a);

	if (n != json_array_get_length(b))
		return FALSE;
	for (guint i = 0; i < n; i++) {
		if (!stdiolink_json_equal(json_array_get_element(a, i),
					  json_array_get_element(b, i)))
			return FALSE;
	}
	return TRUE;
}

/**
 * stdiolink_json_equal:
 * @a: (nullable): a node
 * @b: (nullable): a node
 *
 * Deep equality where `1` and `1.0` are the same number; %NULL equals a JSON null.
 *
 * Returns: %TRUE if equal
 */
gboolean
stdiolink_json_equal(JsonNode *a, JsonNode *b)
{
	gboolean a_null = a == NULL || JSON_NODE_HOLDS_NULL(a);
	gboolean b_null = b == NULL || JSON_NODE_HOLDS_NULL(b);

	if (a_null || b_null)
		return a_null && b_null;
	if (stdiolink_json_node_is_number(a) && stdiolink_json_node_is_number(b))
		return stdiolink_json_node_get_number(a) == stdiolink_json_node_get_number(b);
	if (json_node_get_node_type(a) != json_node_get_node_type(b))
		return FALSE;
	switch (json_node_get_node_type(a)) {
	case JSON_NODE_OBJECT:
		return objects_equal(json_node_get_object(a), json_node_get_object(b));
	case JSON_NODE_ARRAY:
		return arrays_equal(json_node_get_array(a), json_node_get_array(b));
	case JSON_NODE_VALUE:
		if (json_node_get_value_type(a) != json_node_get_value_type(b))
			return FALSE;
		if (stdiolink_json_node_is_string(a))
			return g_str_equal(json_node_get_string(a), json_node_get_string(b));
		return json_node_get_boolean(a) == json_node_get_boolean(b);
	case JSON_NODE_NULL:
	default:
		return TRUE;
	}
}

/**
 * stdiolink_json_node_new_object:
 * @object: (transfer full): an object
 *
 * Wraps @object in a node, taking over the caller's reference: how the JSON views hand
 * out the objects they build.
 *
 * Returns: (transfer full): an object node
 */
JsonNode *
stdiolink_json_node_new_object(JsonObject *object)
{
	JsonNode *node;

	g_return_val_if_fail(object != NULL, NULL);

	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, object);
	return node;
}

/**
 * stdiolink_json_object_get_string:
 * @object: an object
 * @member: a member name
 *
 * Returns: (nullable): the member's string, or %NULL if absent or not a string
 */
const char *
stdiolink_json_object_get_string(JsonObject *object, const char *member)
{
	JsonNode *node = json_object_get_member(object, member);

	return stdiolink_json_node_is_string(node) ? json_node_get_string(node) : NULL;
}

/**
 * stdiolink_json_object_get_object:
 * @object: an object
 * @member: a member name
 *
 * Returns: (nullable) (transfer none): the member's object, or %NULL if absent or another type
 */
JsonObject *
stdiolink_json_object_get_object(JsonObject *object, const char *member)
{
	JsonNode *node = json_object_get_member(object, member);

	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static gint
compare_member_names(gconstpointer a, gconstpointer b)
{
	return strcmp(a, b);
}

/**
 * stdiolink_json_object_get_sorted_members:
 * @object: an object
 *
 * Returns: (transfer container) (element-type utf8): member names in code-point (byte) order
 */
GList *
stdiolink_json_object_get_sorted_members(JsonObject *object)
{
	return g_list_sort(json_object_get_members(object), compare_member_names);
}

/**
 * stdiolink_json_object_get_ordered_members:
 * @object: an object
 *
 * Returns: (transfer container) (element-type utf8): member names in the order they
 *   appeared in the source text
 */
GList *
stdiolink_json_object_get_ordered_members(JsonObject *object)
{
	JsonObjectIter iter;
	const char *name;
	GList *names = NULL;

	json_object_iter_init_ordered(&iter, object);
	while (json_object_iter_next_ordered(&iter, &name, NULL))
		names = g_list_prepend(names, (gpointer)name);
	return g_list_reverse(names);
}
