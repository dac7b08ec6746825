"""Router training and data building: public sets + project-written data, fitting, calibration, eval.

Serving code (app/router/*.py outside this package) never imports from here.
"""
