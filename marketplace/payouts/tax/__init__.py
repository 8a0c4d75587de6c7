"""French tax duties of the platform: the art. 242 bis CGI notice, the experts' yearly summaries, DAC7, ceilings."""
