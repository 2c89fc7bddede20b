int swu_test_fakedep_value(void);
int swu_test_fakedep_value(void) { return 1; }
