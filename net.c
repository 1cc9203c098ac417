/*
 * net.c
 */
#include "mosh.h"
