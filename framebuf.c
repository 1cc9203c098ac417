/*
 * framebuf.c
 */
#include "mosh.h"
