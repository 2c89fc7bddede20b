/* A shared library named like a plugin that is not one. */
int swu_test_not_a_plugin(void);
int swu_test_not_a_plugin(void) { return 0; }
