ByJ
‹lpa]bÂ}\|