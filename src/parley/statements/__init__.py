"""Statements of reasons (DSA Art. 17) for every hold, rejection, suspension and ban."""
