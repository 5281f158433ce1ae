"""Student propagation: teacher labels on any unit table train the encoder student, which labels every unit."""
