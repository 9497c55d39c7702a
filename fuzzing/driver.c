#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"

/*
 * A plain main() for compilers without libFuzzer: runs each file named on the command line,
 * and each file in each directory named, through the target once. A crash or a failed
 * assertion ends the process, which fails the replay test.
 */

static gboolean
run_file(const char *path)
{
	g_autofree char *data = NULL;
	gsize length = 0;
	g_autoptr(GError) error = NULL;
	g_autofree uint8_t *exact = NULL;

	if (!g_file_get_contents(path, &data, &length, &error)) {
		g_printerr("%s\n", error->message);
		return FALSE;
	}

	/* an exact-size copy, as libFuzzer gives, so a read past the end is caught */
	exact = g_memdup2(data, length);
	g_print("running %s (%" G_GSIZE_FORMAT " bytes)\n", path, length);
	LLVMFuzzerTestOneInput(exact, length);
	return TRUE;
}

static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* files of @path in name order, so that runs are repeatable */
static GPtrArray *
list_dir(const char *path, GError **error)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, error);
	GPtrArray *files;
	const char *name;

	if (dir == NULL)
		return NULL;
	files = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(files, g_steal_pointer(&child));
	}
	g_ptr_array_sort(files, compare_names);
	return files;
}

static gboolean
run_path(const char *path, guint *count)
{
	g_autoptr(GPtrArray) files = NULL;
	g_autoptr(GError) error = NULL;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		*count += 1;
		return run_file(path);
	}

	files = list_dir(path, &error);
	if (files == NULL) {
		g_printerr("%s\n", error->message);
		return FALSE;
	}
	for (guint i = 0; i < files->len; i++) {
		if (!run_file(files->pdata[i]))
			return FALSE;
		*count += 1;
	}
	return TRUE;
}

int
main(int argc, char **argv)
{
	guint count = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2) {
		g_printerr("usage: %s FILE|DIR...\n", argv[0]);
		return EXIT_FAILURE;
	}

	for (int i = 1; i < argc; i++) {
		if (!run_path(argv[i], &count))
			return EXIT_FAILURE;
	}
	g_print("%u inputs ran\n", count);
	return EXIT_SUCCESS;
}
