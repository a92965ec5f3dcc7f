"""The OptionMarket venue: reference model of its maths (``model``), deployment (``deploy``), chain reads
(``chain``) and the test-vector generator (``vectors``)."""
