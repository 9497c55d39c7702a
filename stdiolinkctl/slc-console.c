#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "slc-console.h"

/* the space between two columns */
#define SLC_COLUMN_GAP 2

/* the cells of a progress bar between its brackets */
#define SLC_PROGRESS_BAR_WIDTH 30

struct _SlcTable {
	guint n_columns;
	GPtrArray *headers; /* of char*, may be empty: then no header row is printed */
	GPtrArray *cells;   /* of char*, sanitised, row by row */
	GArray *styles;     /* of SlcStyle, parallel to cells */
};

/**
 * slc_console_want_colour:
 * @fd: the file descriptor the text goes to
 *
 * Colour is used only on a terminal, never with a non-empty `NO_COLOR` (no-color.org) and
 * never with `TERM=dumb`.
 *
 * Returns: %TRUE if escape sequences may be written to @fd
 */
gboolean
slc_console_want_colour(int fd)
{
	const char *no_colour = g_getenv("NO_COLOR");

	if (no_colour != NULL && *no_colour != '\0')
		return FALSE;
	if (g_strcmp0(g_getenv("TERM"), "dumb") == 0)
		return FALSE;
	return isatty(fd) == 1;
}

/**
 * slc_console_display_width:
 * @text: valid UTF-8
 *
 * Returns: the number of terminal columns @text occupies: wide (East Asian) characters
 * count two, combining marks none
 */
guint
slc_console_display_width(const char *text)
{
	guint width = 0;

	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (g_unichar_iszerowidth(c))
			continue;
		width += g_unichar_iswide(c) ? 2 : 1;
	}
	return width;
}

/**
 * slc_console_sanitize:
 * @text: (nullable): valid UTF-8 from the server
 *
 * Names and messages come from files anyone may have written; a control character in
 * them must not move the cursor or change colours in the user's terminal, nor break the
 * table. Tabs and line breaks become spaces, other control characters `?`.
 *
 * Returns: (transfer full): the printable text; `""` for %NULL
 */
char *
slc_console_sanitize(const char *text)
{
	GString *out = g_string_new(NULL);

	if (text == NULL)
		return g_string_free(out, FALSE);

	for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '\t' || c == '\n' || c == '\r')
			g_string_append_c(out, ' ');
		else if (g_unichar_iscntrl(c))
			g_string_append_c(out, '?');
		else
			g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

/**
 * slc_console_print_error:
 * @message: a (translated) message, possibly of several lines
 *
 * Prints `stdiolinkctl: <line>` to stderr for each line of @message.
 */
void
slc_console_print_error(const char *message)
{
	g_auto(GStrv) lines = g_strsplit(message, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_autofree char *clean = slc_console_sanitize(lines[i]);

		fprintf(stderr, "stdiolinkctl: %s\n", clean);
	}
}

/**
 * slc_table_new:
 * @n_columns: the number of columns, at least one
 *
 * Returns: (transfer full): an empty table
 */
SlcTable *
slc_table_new(guint n_columns)
{
	SlcTable *table = g_new0(SlcTable, 1);

	g_return_val_if_fail(n_columns > 0, NULL);

	table->n_columns = n_columns;
	table->headers = g_ptr_array_new_with_free_func(g_free);
	table->cells = g_ptr_array_new_with_free_func(g_free);
	table->styles = g_array_new(FALSE, FALSE, sizeof(SlcStyle));
	return table;
}

/**
 * slc_table_free:
 * @table: (nullable): a table
 */
void
slc_table_free(SlcTable *table)
{
	if (table == NULL)
		return;
	g_ptr_array_unref(table->headers);
	g_ptr_array_unref(table->cells);
	g_array_unref(table->styles);
	g_free(table);
}

/**
 * slc_table_add_header:
 * @table: a table
 * @title: the next column's (translated) title
 */
void
slc_table_add_header(SlcTable *table, const char *title)
{
	g_return_if_fail(table->headers->len < table->n_columns);

	g_ptr_array_add(table->headers, slc_console_sanitize(title));
}

/**
 * slc_table_add_cell:
 * @table: a table
 * @text: (nullable): the next cell, filled left to right and row by row; %NULL is empty
 * @style: how to show it when colour is on
 */
void
slc_table_add_cell(SlcTable *table, const char *text, SlcStyle style)
{
	g_ptr_array_add(table->cells, slc_console_sanitize(text));
	g_array_append_val(table->styles, style);
}

/**
 * slc_table_add_row:
 * @table: a table
 * @first: the first cell
 * @...: the other cells, then %NULL
 *
 * Adds plain cells; a row shorter than the table is completed with empty cells.
 */
void
slc_table_add_row(SlcTable *table, const char *first, ...)
{
	va_list ap;
	guint n = 0;

	va_start(ap, first);
	for (const char *cell = first; cell != NULL; cell = va_arg(ap, const char *)) {
		slc_table_add_cell(table, cell, SLC_STYLE_NONE);
		n++;
	}
	va_end(ap);

	for (; n % table->n_columns != 0; n++)
		slc_table_add_cell(table, NULL, SLC_STYLE_NONE);
}

/**
 * slc_table_get_n_rows:
 * @table: a table
 *
 * Returns: the number of body rows (the header row not counted)
 */
guint
slc_table_get_n_rows(SlcTable *table)
{
	return (table->cells->len + table->n_columns - 1) / table->n_columns;
}

static const char *
style_start(SlcStyle style)
{
	switch (style) {
	case SLC_STYLE_HEADER:
		return "\033[1m";
	case SLC_STYLE_GOOD:
		return "\033[32m";
	case SLC_STYLE_WARN:
		return "\033[33m";
	case SLC_STYLE_BAD:
		return "\033[31m";
	case SLC_STYLE_DIM:
		return "\033[2m";
	default:
		return NULL;
	}
}

/**
 * slc_console_progress_bar:
 * @done: the steps done so far
 * @total: the number of steps; 0 while it is not known yet
 * @colour: whether the done part may be coloured
 * @width: (out) (optional): the terminal columns the bar takes, escapes not counted
 *
 * Formats a one-line progress bar, `[#####...............] 5/20`: the `#` share is
 * @done of @total (all when @done reaches it). While @total is 0 nothing is filled and the
 * total shows as `?`.
 *
 * Returns: (transfer full): the bar without a line break
 */
char *
slc_console_progress_bar(guint done, guint total, gboolean colour, guint *width)
{
	g_autofree char *counter = total > 0 ? g_strdup_printf("%u/%u", done, total)
					     : g_strdup_printf("%u/?", done);
	GString *out = g_string_new("[");
	guint filled = 0;

	if (total > 0)
		filled = (guint)((guint64)MIN(done, total) * SLC_PROGRESS_BAR_WIDTH / total);

	/* the done part */
	if (colour && filled > 0)
		g_string_append(out, style_start(SLC_STYLE_GOOD));
	for (guint i = 0; i < filled; i++)
		g_string_append_c(out, '#');
	if (colour && filled > 0)
		g_string_append(out, "\033[0m");

	/* the rest, then the numbers */
	for (guint i = filled; i < SLC_PROGRESS_BAR_WIDTH; i++)
		g_string_append_c(out, '.');
	g_string_append_printf(out, "] %s", counter);

	if (width != NULL)
		*width = SLC_PROGRESS_BAR_WIDTH + 3 + (guint)strlen(counter);
	return g_string_free(out, FALSE);
}

static void
append_cell(GString *out,
	    const char *text,
	    SlcStyle style,
	    guint width,
	    gboolean last,
	    gboolean colour)
{
	const char *start = colour ? style_start(style) : NULL;

	if (start != NULL && *text != '\0')
		g_string_append_printf(out, "%s%s\033[0m", start, text);
	else
		g_string_append(out, text);

	/* the last column is not padded: no trailing blanks */
	if (last)
		return;
	for (guint w = slc_console_display_width(text); w < width + SLC_COLUMN_GAP; w++)
		g_string_append_c(out, ' ');
}

static guint *
column_widths(SlcTable *table)
{
	guint *widths = g_new0(guint, table->n_columns);

	for (guint i = 0; i < table->headers->len; i++)
		widths[i] = slc_console_display_width(g_ptr_array_index(table->headers, i));
	for (guint i = 0; i < table->cells->len; i++) {
		guint col = i % table->n_columns;
		guint w = slc_console_display_width(g_ptr_array_index(table->cells, i));

		widths[col] = MAX(widths[col], w);
	}
	return widths;
}

/* an empty last cell would leave the padding of the one before it */
static void
end_line(GString *out)
{
	while (out->len > 0 && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	g_string_append_c(out, '\n');
}

/**
 * slc_table_render:
 * @table: a table
 * @colour: whether to emit escape sequences
 *
 * Lays the table out with every column as wide as its widest cell, measured in terminal
 * columns, and two spaces between columns. No line has trailing blanks.
 *
 * Returns: (transfer full): the text, one line per row, each ending in a newline
 */
char *
slc_table_render(SlcTable *table, gboolean colour)
{
	g_autofree guint *widths = column_widths(table);
	GString *out = g_string_new(NULL);
	guint n_cells = slc_table_get_n_rows(table) * table->n_columns;

	/* the header row */
	for (guint i = 0; i < table->headers->len; i++) {
		append_cell(out,
			    g_ptr_array_index(table->headers, i),
			    SLC_STYLE_HEADER,
			    widths[i],
			    i + 1 == table->headers->len,
			    colour);
	}
	if (table->headers->len > 0)
		end_line(out);

	/* the body; a short last row is completed with empty cells */
	for (guint i = 0; i < n_cells; i++) {
		guint col = i % table->n_columns;
		gboolean have = i < table->cells->len;

		append_cell(out,
			    have ? g_ptr_array_index(table->cells, i) : "",
			    have ? g_array_index(table->styles, SlcStyle, i) : SLC_STYLE_NONE,
			    widths[col],
			    col + 1 == table->n_columns,
			    colour);
		if (col + 1 == table->n_columns)
			end_line(out);
	}
	return g_string_free(out, FALSE);
}
