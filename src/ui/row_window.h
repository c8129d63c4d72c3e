/* The window of rows a page shows, shared by the flow and group views. */
#ifndef TFT_ROW_WINDOW_H
#define TFT_ROW_WINDOW_H

#include <stddef.h>

/*
 * Moves *top so that row sel of n shows in a page of page_rows, with no
 * empty space below the last row while rows sit above the page. Returns
 * the first row to draw.
 */
static inline size_t row_window_scroll(size_t *top, size_t sel, size_t n, size_t page_rows)
{
	if (!page_rows)
		return sel;
	if (sel < *top)
		*top = sel;
	else if (sel >= *top + page_rows)
		*top = sel - page_rows + 1;
	if (*top + page_rows > n)
		*top = n > page_rows ? n - page_rows : 0;
	return *top;
}

#endif /* TFT_ROW_WINDOW_H */
