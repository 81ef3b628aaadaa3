// parse-error: the front end's errors at their place, never a crash.
// kernels: none
int broken(void)
{
	return undefined_name; // want: parse-error
}
